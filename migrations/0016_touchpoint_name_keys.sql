-- Touchpoint names differ within an owner, as owner and journey names do (0013): two
-- "Courier pickup" rows of one owner cannot be told apart on its report. The key is the same
-- (computed by the app, surveys/service.py), looked up on (owner_id, name_key).
--
-- Not unique: twins made before names were checked stay, and pages show their keys beside
-- them. Existing rows get their keys from the next check of their owner's names, as do rows
-- written without one by an instance of the previous release during a rolling deploy.
ALTER TABLE touchpoints ADD COLUMN name_key text;
CREATE INDEX touchpoints_owner_name_key ON touchpoints (owner_id, name_key);

-- A name changed without its key loses it (the function of 0013).
CREATE TRIGGER touchpoints_name_key BEFORE UPDATE OF name ON touchpoints
    FOR EACH ROW EXECUTE FUNCTION name_key_follows_name();
