-- Alerts: an owner's webhook subscriptions, and an outbox of deliveries.
--
-- The response writer queues a delivery in the answer's own transaction (so an acknowledged
-- answer's alert is never lost); a background worker on each instance posts it, claiming rows
-- with FOR UPDATE SKIP LOCKED so that two instances never post one row at once
-- (feedback/alerts/). 0010 and 0011 are other branches' numbers: the runner applies files in
-- name order and takes a late lower number too.

-- A small catalogue table like owners: a reference table on Citus (docs/scaling.md).
CREATE TABLE alerts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    url text NOT NULL CHECK (url ~ '^[Hh][Tt][Tt][Pp][Ss]?://' AND length(url) <= 2000),
    -- Which answers post: a score in its kind's low band, a comment read as negative.
    on_low_score boolean NOT NULL,
    on_negative_comment boolean NOT NULL,
    CHECK (on_low_score OR on_negative_comment),
    -- Signs each body (HMAC-SHA256); kept as given because signing needs it, never shown.
    secret text CHECK (secret IS NULL OR length(secret) BETWEEN 16 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_owner ON alerts (owner_id, id);

-- One row per answer and subscription. Distributed by touchpoint_id on Citus, colocated with
-- responses: the writer's insert and the foreign key to the answer stay on the answer's node.
-- The answer's erasure takes its deliveries with it; so does deleting the subscription.
CREATE TABLE alert_deliveries (
    touchpoint_id bigint NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    response_id uuid NOT NULL,
    reason text NOT NULL CHECK (reason IN ('low_score', 'negative_comment')),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    -- While pending: when it is next due. A worker that claims it moves this past its lease,
    -- so a worker that died mid-post leaves it due again, not lost.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_status integer,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (touchpoint_id, id),
    -- An answer edited (a survey link's) posts no second alert to the same subscription.
    UNIQUE (touchpoint_id, response_id, alert_id),
    FOREIGN KEY (touchpoint_id, response_id) REFERENCES responses (touchpoint_id, id) ON DELETE CASCADE
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id, id DESC);
CREATE INDEX alert_deliveries_done ON alert_deliveries (created_at) WHERE status <> 'pending';

-- Each instance's writer caches which owners have subscriptions (migration 0009's channel):
-- any change drops the whole cache, which is one small query to load again.
CREATE TRIGGER alerts_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alerts
FOR EACH STATEMENT EXECUTE FUNCTION notify_all_changed('alert');
