-- Name checks on an index. No two owners (journeys) may share a name once case, spacing,
-- compatibility forms and characters that print nothing are set aside; the check read every
-- name, with the kind's name lock held, to compare them in Python (PostgreSQL has neither
-- Python's casefold nor its list of invisible characters, so SQL cannot compute the key
-- exactly). The app now stores each name's key beside it and looks the key up.
--
-- Not unique: twins made before names were checked stay. Existing rows get their keys from the
-- next check (the app computes them under the same lock, surveys/service.py), as do rows written
-- without one by an instance of the previous release during a rolling deploy; until then the
-- check compares those rows by name.
ALTER TABLE owners ADD COLUMN name_key text;
ALTER TABLE journeys ADD COLUMN name_key text;
CREATE INDEX owners_name_key ON owners (name_key);
CREATE INDEX journeys_name_key ON journeys (name_key);

-- A name changed without its key (by the previous release, or by hand) loses its key, so the
-- next check computes it again rather than trust the old name's. A rename by this release that
-- keeps the key ('Sales' to 'SALES') loses it too, and gets it back the same way.
CREATE FUNCTION name_key_follows_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name AND NEW.name_key IS NOT DISTINCT FROM OLD.name_key THEN
        NEW.name_key := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER owners_name_key BEFORE UPDATE OF name ON owners
    FOR EACH ROW EXECUTE FUNCTION name_key_follows_name();
CREATE TRIGGER journeys_name_key BEFORE UPDATE OF name ON journeys
    FOR EACH ROW EXECUTE FUNCTION name_key_follows_name();
