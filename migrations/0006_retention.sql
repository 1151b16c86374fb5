-- Retention of what the survey links leave behind (feedback/collection/retention.py).

-- What the purge looks for, and only that: rows leave these indexes once purged, so each
-- minute's pass reads the rows due, never the years of history already forgotten.
-- Per touchpoint, because a touchpoint's recontact_days may hold its references longer.
-- Building them blocks writes to these tables (not reads) until the migration commits.
CREATE INDEX invitations_identified ON invitations (touchpoint_id, created_at)
    WHERE customer_ref IS NOT NULL;
CREATE INDEX invitation_clicks_with_agent ON invitation_clicks (clicked_at)
    WHERE user_agent <> '';

-- An invitation past TOUCHPULSE_INVITATION_RETENTION_DAYS stays a row, so every funnel
-- count and response rate stays as it was, but forgets who it was for: its customer
-- reference becomes NULL (the length check passes NULL as it is). Last, because it locks
-- out readers too until the commit; the change itself touches no row.
ALTER TABLE invitations ALTER COLUMN customer_ref DROP NOT NULL;
