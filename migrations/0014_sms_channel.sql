-- A touchpoint may be reached by SMS: the survey link sent in a text message (docs/collection.md).
-- The list mirrors surveys.models.Channel; tests/test_admin_api.py creates a touchpoint on each.
ALTER TABLE touchpoints DROP CONSTRAINT touchpoints_channel_check;
ALTER TABLE touchpoints ADD CONSTRAINT touchpoints_channel_check
    CHECK (channel IN ('email', 'sms', 'app', 'web', 'phone', 'chat', 'store', 'other'));
