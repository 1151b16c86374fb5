-- name: insert-key^
INSERT INTO api_keys (name, role, owner_id, prefix, key_hash)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, name, role, owner_id, prefix, created_at, revoked_at;

-- name: principal-by-hash^
SELECT id AS key_id, role, owner_id
FROM api_keys
WHERE key_hash = $1 AND revoked_at IS NULL;

-- name: list-keys
SELECT id, name, role, owner_id, prefix, created_at, revoked_at
FROM api_keys
ORDER BY id;

-- name: revoke-key^
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE id = $1
RETURNING id, name, role, owner_id, prefix, created_at, revoked_at;

-- name: owner-exists$
SELECT EXISTS (SELECT 1 FROM owners WHERE id = $1);
