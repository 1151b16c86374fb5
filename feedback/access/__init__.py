"""Access: API keys with roles (admin, owner, ingest), stored only as hashes."""
