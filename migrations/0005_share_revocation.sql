-- Share links revoked one owner (or one journey map) at a time.
--
-- A share link's MAC covers its owner's (or journey's) share_epoch; revoking adds one, so
-- every link made before no longer verifies while everyone else's keep working. Epoch 0 signs
-- exactly what links signed before this migration, so they keep working until revoked.
-- Adding a column with a constant default rewrites no rows (PostgreSQL 11+).

ALTER TABLE owners
    ADD COLUMN share_epoch integer NOT NULL DEFAULT 0 CHECK (share_epoch >= 0),
    ADD COLUMN share_links_revoked_at timestamptz;

ALTER TABLE journeys
    ADD COLUMN share_epoch integer NOT NULL DEFAULT 0 CHECK (share_epoch >= 0),
    ADD COLUMN share_links_revoked_at timestamptz;
