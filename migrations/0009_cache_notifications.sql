-- Each instance caches API keys and touchpoints for a few seconds; a change made on one instance
-- (or by the CLI, or in psql) must reach the others at once: a revoked key is refused, a paused
-- touchpoint takes no more answers. Triggers send a notification on channel touchpulse_caches
-- in the changing transaction, so it is delivered only if the change commits; each instance
-- listens and drops the entries named (feedback/service/invalidation.py). Triggers rather than
-- statements in the queries: every writer is covered, including ones not written yet.
-- Payloads: 'key:<api key id>', 'touchpoint:<touchpoint key>'; a topic alone clears all of it.
-- Notifications alike in one transaction are delivered once.

CREATE FUNCTION notify_api_key_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('touchpulse_caches', 'key:' || OLD.id::text);
    RETURN NULL;
END
$$;

-- Revoked, deleted (also with its owner), or its role or owner changed.
CREATE TRIGGER api_keys_notify AFTER UPDATE OR DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION notify_api_key_changed();

CREATE FUNCTION notify_touchpoint_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Cached under its old key; a new key was never cached (unknown keys are not).
    PERFORM pg_notify('touchpulse_caches', 'touchpoint:' || OLD.key);
    RETURN NULL;
END
$$;

-- Paused, moved, its kind, owner or wording changed, renamed, deleted.
CREATE TRIGGER touchpoints_notify AFTER UPDATE OR DELETE ON touchpoints
FOR EACH ROW EXECUTE FUNCTION notify_touchpoint_changed();

-- A cached touchpoint carries its stage's name and journey, and its owner's name.
CREATE FUNCTION notify_stage_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('touchpulse_caches', 'touchpoint:' || t.key) FROM touchpoints t WHERE t.stage_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER stages_notify AFTER UPDATE OF name, journey_id ON stages
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.journey_id IS DISTINCT FROM NEW.journey_id)
EXECUTE FUNCTION notify_stage_changed();

CREATE FUNCTION notify_owner_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('touchpulse_caches', 'touchpoint:' || t.key) FROM touchpoints t WHERE t.owner_id = NEW.id;
    RETURN NULL;
END
$$;

-- Not on share revocation (share_epoch), which touches owners too.
CREATE TRIGGER owners_notify AFTER UPDATE OF name ON owners
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION notify_owner_renamed();

CREATE FUNCTION notify_all_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('touchpulse_caches', TG_ARGV[0]);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_truncate_notify AFTER TRUNCATE ON api_keys
FOR EACH STATEMENT EXECUTE FUNCTION notify_all_changed('key');

CREATE TRIGGER touchpoints_truncate_notify AFTER TRUNCATE ON touchpoints
FOR EACH STATEMENT EXECUTE FUNCTION notify_all_changed('touchpoint');
