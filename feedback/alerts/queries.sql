-- Alerts: subscriptions, the outbox the response writer fills, and its deliveries.

-- name: insert-alert^
INSERT INTO alerts (owner_id, url, on_low_score, on_negative_comment, secret)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, owner_id, url, on_low_score, on_negative_comment, secret IS NOT NULL AS signed, created_at;

-- name: list-alerts
SELECT id, owner_id, url, on_low_score, on_negative_comment, secret IS NOT NULL AS signed, created_at
FROM alerts WHERE owner_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: get-alert^
SELECT id, owner_id, url, on_low_score, on_negative_comment, secret IS NOT NULL AS signed, created_at
FROM alerts WHERE owner_id = $1 AND id = $2;

-- name: delete-alert$
DELETE FROM alerts WHERE owner_id = $1 AND id = $2 RETURNING id;

-- name: alert-rules
-- What the response writer caches: per owner, which answers any of its subscriptions wants.
SELECT owner_id, bool_or(on_low_score) AS low, bool_or(on_negative_comment) AS negative
FROM alerts GROUP BY owner_id;

-- name: queue-deliveries!
-- In the answers' transaction, after they were written: one row per answer and matching
-- subscription. An answer is found by id ($2), or by its invitation ($3) for a survey-link
-- answer (an edit keeps the first answer's id); its owner is the one it was given to.
INSERT INTO alert_deliveries (touchpoint_id, response_id, alert_id, reason)
SELECT r.touchpoint_id, r.id, a.id,
       CASE WHEN c.low AND a.on_low_score THEN 'low_score' ELSE 'negative_comment' END
FROM unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::bool[], $5::bool[])
    AS c(touchpoint_id, response_id, invitation_id, low, negative)
CROSS JOIN LATERAL (
    SELECT touchpoint_id, id, owner_id FROM responses
    WHERE touchpoint_id = c.touchpoint_id AND id = c.response_id
    UNION ALL
    SELECT touchpoint_id, id, owner_id FROM responses
    WHERE touchpoint_id = c.touchpoint_id AND invitation_id = c.invitation_id
) r
JOIN alerts a ON a.owner_id = r.owner_id
WHERE (c.low AND a.on_low_score) OR (c.negative AND a.on_negative_comment)
ORDER BY r.touchpoint_id, r.id, a.id
ON CONFLICT (touchpoint_id, response_id, alert_id) DO NOTHING;

-- name: claim-deliveries
-- Due deliveries for this worker: rows another instance holds are skipped, not waited for.
-- Claiming counts the attempt and moves the row past the lease ($2 seconds), so it is not due
-- again while this worker posts it, and is due again if this worker dies.
WITH due AS (
    SELECT touchpoint_id, id FROM alert_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE alert_deliveries d
SET attempts = d.attempts + 1, last_attempt_at = now(),
    next_attempt_at = now() + make_interval(secs => $2)
FROM due
WHERE d.touchpoint_id = due.touchpoint_id AND d.id = due.id
RETURNING d.touchpoint_id, d.id, d.attempts;

-- name: delivery-details
-- What a claimed delivery posts: the subscription, the answer as the API shows it, and where
-- the answer was given.
SELECT d.touchpoint_id AS delivery_touchpoint_id, d.id AS delivery_id, d.attempts, d.reason,
       a.id AS alert_id, a.url, a.secret,
       r.id, t.key AS touchpoint, r.invitation_id, r.kind, r.score, r.scale_min, r.scale_max,
       r.comment, r.customer_ref AS customer, r.locale, r.channel, r.source,
       r.context::text AS context, r.sentiment_polarity, r.sentiment_subjectivity,
       r.sentiment_label, r.language, r.themes, r.analyzer_version, r.occurred_at, r.created_at,
       r.updated_at, r.edits,
       t.id AS touchpoint_id, t.name AS touchpoint_name,
       r.stage_id, coalesce(s.name, '') AS stage_name,
       r.journey_id, coalesce(j.name, '') AS journey_name,
       o.id AS owner_id, o.name AS owner_name, o.share_epoch
FROM unnest($1::bigint[], $2::bigint[]) AS c(touchpoint_id, id)
JOIN alert_deliveries d ON d.touchpoint_id = c.touchpoint_id AND d.id = c.id
JOIN alerts a ON a.id = d.alert_id
JOIN responses r ON r.touchpoint_id = d.touchpoint_id AND r.id = d.response_id
JOIN touchpoints t ON t.id = r.touchpoint_id
-- Where the touchpoint stood when the customer answered; that stage may have been removed since.
LEFT JOIN stages s ON s.id = r.stage_id
LEFT JOIN journeys j ON j.id = r.journey_id
JOIN owners o ON o.id = a.owner_id;

-- name: record-delivery!
-- The outcome of a post, unless the row moved on meanwhile (its lease ran out and another
-- worker claimed it again: that worker records its own). $4: delivered; else $7 says whether
-- attempts are used up, and $8 is the wait before the next one, in seconds.
UPDATE alert_deliveries
SET status = CASE WHEN $4 THEN 'delivered' WHEN $7 THEN 'failed' ELSE 'pending' END,
    last_status = $5, last_error = $6,
    delivered_at = CASE WHEN $4 THEN now() END,
    next_attempt_at = CASE WHEN $4 OR $7 THEN next_attempt_at ELSE now() + make_interval(secs => $8) END
WHERE touchpoint_id = $1 AND id = $2 AND attempts = $3 AND status = 'pending';

-- name: list-deliveries
SELECT d.id, d.alert_id, d.response_id, t.key AS touchpoint, d.reason, d.status, d.attempts,
       d.last_status, d.last_error, d.last_attempt_at,
       CASE WHEN d.status = 'pending' THEN d.next_attempt_at END AS next_attempt_at,
       d.delivered_at, d.created_at
FROM alert_deliveries d JOIN touchpoints t ON t.id = d.touchpoint_id
WHERE d.alert_id = $1 AND d.id < $2 AND ($3::text IS NULL OR d.status = $3)
ORDER BY d.id DESC
LIMIT $4;

-- name: purge-deliveries$
-- Delivered and failed rows are kept $1 days for debugging, then deleted in batches of $2.
WITH gone AS (
    DELETE FROM alert_deliveries
    WHERE (touchpoint_id, id) IN (
        SELECT touchpoint_id, id FROM alert_deliveries
        WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1)
        LIMIT $2)
    RETURNING 1
)
SELECT count(*) FROM gone;
