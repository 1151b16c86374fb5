-- Invitations -----------------------------------------------------------------

-- name: lock-customer!
-- One decision at a time per customer: the fatigue budget spans every touchpoint.
SELECT pg_advisory_xact_lock(hashtextextended($1, 0));

-- name: invitation-by-event^
-- The context compared as jsonb ($3 as sent): key order and a number's spelling (1 or 1.0) are
-- not a difference, a value is.
SELECT id, decision, token_nonce, expires_at, locale, channel, customer_ref,
       context = $3::text::jsonb AS same_context
FROM invitations
WHERE touchpoint_id = $1 AND event_id = $2;

-- name: asked-here$
SELECT EXISTS (SELECT 1 FROM invitations
               WHERE customer_ref = $1 AND touchpoint_id = $2 AND decision = 'sent'
                 AND created_at > now() - make_interval(days => $3));

-- name: asked-anywhere$
SELECT count(*) FROM invitations
WHERE customer_ref = $1 AND decision = 'sent' AND created_at > now() - make_interval(days => $2);

-- name: insert-invitation$
INSERT INTO invitations (touchpoint_id, id, customer_ref, locale, channel, context, event_id,
                         decision, token_hash, token_nonce, expires_at)
VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9, $10, $11)
ON CONFLICT (touchpoint_id, event_id) DO NOTHING
RETURNING id;

-- name: invitation-by-token^
SELECT i.id, i.touchpoint_id, i.customer_ref, i.locale, i.channel, i.context::text AS context,
       i.expires_at, i.expires_at <= now() AS expired, i.answered_at IS NOT NULL AS answered,
       t.key AS touchpoint
FROM invitations i JOIN touchpoints t ON t.id = i.touchpoint_id
WHERE i.token_hash = $1;

-- name: invitations-by-token
-- Many link lookups in one round trip (the survey form under load).
SELECT i.token_hash, i.id, i.touchpoint_id, i.customer_ref, i.locale, i.channel,
       i.context::text AS context, i.expires_at, i.expires_at <= now() AS expired,
       i.answered_at IS NOT NULL AS answered, t.key AS touchpoint
FROM invitations i JOIN touchpoints t ON t.id = i.touchpoint_id
WHERE i.token_hash = ANY($1::bytea[]);

-- name: invitation-by-id^
-- An API answer's invitation: the link's fields, and whether it was sent at all.
SELECT i.id, i.touchpoint_id, i.customer_ref, i.locale, i.channel, i.context::text AS context,
       i.expires_at, i.expires_at <= now() AS expired, i.answered_at IS NOT NULL AS answered,
       t.key AS touchpoint, i.decision
FROM invitations i JOIN touchpoints t ON t.id = i.touchpoint_id
WHERE i.id = $1;

-- name: record-click!
-- Different scores clicked within seconds are a mail scanner following every link: the
-- invitation is marked when none of its clicks was a person's and nobody answered it (the
-- funnel's scanner count is what the click rate leaves out). See migration 0011.
SELECT record_click($1, $2, $3, $4);

-- name: get-invitation^
SELECT i.id, t.key AS touchpoint, i.customer_ref AS customer, i.locale, i.channel,
       i.context::text AS context, i.event_id, i.decision, i.expires_at, i.created_at,
       i.first_clicked_at, i.answered_at, i.suspected_scanner, i.touchpoint_id
FROM invitations i JOIN touchpoints t ON t.id = i.touchpoint_id
WHERE i.id = $1 AND ($2::bigint IS NULL OR t.owner_id = $2);

-- name: invitation-clicks
SELECT score, user_agent, clicked_at FROM invitation_clicks
WHERE touchpoint_id = $1 AND invitation_id = $2 ORDER BY clicked_at, id;

-- Responses -------------------------------------------------------------------

-- name: link-response^
SELECT r.kind, r.score, r.comment, r.created_at > now() - make_interval(days => $3) AS editable
FROM responses r WHERE r.touchpoint_id = $1 AND r.invitation_id = $2;

-- name: insert-responses
-- Group commit: every row of a batch in one statement (the rollup triggers run once).
INSERT INTO responses (
    touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min, scale_max, score,
    comment, customer_ref, locale, channel, source, context, sentiment_polarity,
    sentiment_subjectivity, sentiment_label, language, themes, analyzer_version,
    occurred_at, created_at, updated_at, invitation_id)
SELECT touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min, scale_max, score,
       comment, customer_ref, locale, channel, source, context::jsonb, polarity, subjectivity,
       label, language, ARRAY(SELECT jsonb_array_elements_text(themes::jsonb)), analyzer_version,
       occurred_at, created_at, created_at, invitation_id
FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[],
            $7::smallint[], $8::smallint[], $9::smallint[], $10::text[], $11::text[], $12::text[],
            $13::text[], $14::text[], $15::text[], $16::real[], $17::real[], $18::text[],
            $19::text[], $20::text[], $21::int[], $22::timestamptz[], $23::timestamptz[],
            $24::uuid[])
    AS u(touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min, scale_max, score,
         comment, customer_ref, locale, channel, source, context, polarity, subjectivity,
         label, language, themes, analyzer_version, occurred_at, created_at, invitation_id);

-- name: insert-batch
-- Group commit in one statement: the Idempotency-Keys the batch wins (an expired key left
-- behind by the purge is taken over) and the rows that go with them, plus rows without a
-- key. Returns the keys won, and the rows not written because their customer was erased after
-- they were received (`erased`: neither stored nor keyed; $3 is how far the database's clock is
-- ahead of the writer's, see migrations 0008 and 0010); the rollup
-- triggers run once for the whole batch. The rows come as one JSON array ($1) and the keys as
-- another ($2): encoding them is one msgspec call, where binding two dozen typed arrays cost
-- the service more than the rest of the request. The keys' stored answers come apart, as one
-- bytea array ($4; each key's `body` is its position): inside the JSON, in base64, reading and
-- decoding them cost PostgreSQL more than reading the rows.
WITH erased AS MATERIALIZED (
    SELECT id FROM erased_answers($1::json, $3::interval) AS id
), keyed AS (
    SELECT r.response_id, r.api_key_id, r.key, decode(r.request_hash, 'base64') AS request_hash,
           r.status, ($4::bytea[])[r.body] AS body
    FROM json_to_recordset($2::json)
        AS r(response_id uuid, api_key_id bigint, key text, request_hash text, status int, body int)
    WHERE r.response_id NOT IN (SELECT id FROM erased)
), won AS (
    INSERT INTO idempotency_keys AS k (api_key_id, key, request_hash, status, body)
    SELECT api_key_id, key, request_hash, status, body FROM keyed
    ORDER BY api_key_id, key  -- concurrent batches claim shared keys in one order: no deadlock
    ON CONFLICT (api_key_id, key) DO UPDATE SET
        request_hash = excluded.request_hash, status = excluded.status, body = excluded.body,
        created_at = now()
    WHERE k.created_at <= now() - interval '48 hours'
    RETURNING api_key_id, key
), stored AS (
    INSERT INTO responses (
        touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min, scale_max, score,
        comment, customer_ref, locale, channel, source, context, sentiment_polarity,
        sentiment_subjectivity, sentiment_label, language, themes, analyzer_version,
        occurred_at, created_at, updated_at, invitation_id)
    SELECT touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min, scale_max, score,
           comment, customer_ref, locale, channel, source, context::jsonb, polarity, subjectivity,
           label, language, themes, analyzer_version, occurred_at, created_at, created_at, invitation_id
    FROM json_to_recordset($1::json)
        AS u(touchpoint_id bigint, id uuid, journey_id bigint, stage_id bigint, owner_id bigint,
             kind text, scale_min smallint, scale_max smallint, score smallint, comment text,
             customer_ref text, locale text, channel text, source text, context text, polarity real,
             subjectivity real, label text, language text, themes text[], analyzer_version int,
             occurred_at timestamptz, created_at timestamptz, invitation_id uuid)
    WHERE (NOT EXISTS (SELECT 1 FROM keyed WHERE keyed.response_id = u.id)
           OR EXISTS (SELECT 1 FROM keyed JOIN won USING (api_key_id, key) WHERE keyed.response_id = u.id))
      AND u.id NOT IN (SELECT id FROM erased)
)
SELECT api_key_id, key, NULL::uuid AS erased FROM won
UNION ALL
SELECT NULL, NULL, id FROM erased;

-- name: upsert-link-responses
-- An invitation's answer (the survey form through the group commit, or an API answer naming
-- the invitation, $22 its source and $23 when it was given): each invitation at most once per statement
-- (the writer splits repeats into rounds). The kind is the one the score was checked against,
-- so it always matches the row's scale, even just after the touchpoint's kind changed. Inserts, or edits while the window is open and
-- the link has not expired; the first answer marks the invitation answered. Returns the
-- invitations whose answer was stored, and the answers ($2) not written because their customer
-- was erased after they were received ($20: when, by the writer's clock, and $21: how far the
-- database's clock is ahead of it; see migrations 0008 and 0010).
WITH erased AS MATERIALIZED (
    SELECT id FROM erased_answers($2::uuid[], $8::text[], $20::timestamptz[], $21::interval) AS id
), up AS (
    INSERT INTO responses AS r (
        touchpoint_id, id, invitation_id, journey_id, stage_id, owner_id, kind, scale_min, scale_max,
        score, comment, customer_ref, locale, channel, source, context,
        sentiment_polarity, sentiment_subjectivity, sentiment_label, language, themes, analyzer_version,
        occurred_at)
    SELECT u.touchpoint_id, u.id, u.invitation_id, s.journey_id, t.stage_id, t.owner_id, u.kind,
           u.scale_min, u.scale_max, u.score, u.comment, u.customer_ref, u.locale, u.channel, u.source,
           u.context::jsonb, u.polarity, u.subjectivity, u.label, u.language,
           ARRAY(SELECT jsonb_array_elements_text(u.themes::jsonb)), u.analyzer_version, u.occurred_at
    FROM unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::smallint[], $5::smallint[], $6::smallint[],
                $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::real[], $13::real[],
                $14::text[], $15::text[], $16::text[], $17::int[], $18::text[], $22::text[],
                $23::timestamptz[])
        AS u(touchpoint_id, id, invitation_id, scale_min, scale_max, score, comment, customer_ref,
             locale, channel, context, polarity, subjectivity, label, language, themes,
             analyzer_version, kind, source, occurred_at)
    JOIN touchpoints t ON t.id = u.touchpoint_id
    JOIN stages s ON s.id = t.stage_id
    WHERE u.id NOT IN (SELECT id FROM erased)
    ON CONFLICT (touchpoint_id, invitation_id) DO UPDATE SET
        kind = excluded.kind, scale_min = excluded.scale_min, scale_max = excluded.scale_max,
        score = excluded.score, comment = excluded.comment,
        sentiment_polarity = excluded.sentiment_polarity,
        sentiment_subjectivity = excluded.sentiment_subjectivity,
        sentiment_label = excluded.sentiment_label, language = excluded.language,
        themes = excluded.themes, analyzer_version = excluded.analyzer_version,
        -- The same answer sent again (a refreshed thank-you page posts the form again) is not
        -- an edit.
        edits = r.edits + CASE WHEN (r.score, r.comment) IS NOT DISTINCT FROM (excluded.score, excluded.comment)
                               THEN 0 ELSE 1 END,
        updated_at = CASE WHEN (r.score, r.comment) IS NOT DISTINCT FROM (excluded.score, excluded.comment)
                          THEN r.updated_at ELSE now() END
    WHERE r.created_at > now() - make_interval(days => $19)
      AND now() < (SELECT i.expires_at FROM invitations i
                   WHERE i.touchpoint_id = r.touchpoint_id AND i.id = r.invitation_id)
    RETURNING r.touchpoint_id, r.invitation_id
), answered AS (
    -- An answer clears the scanner suspicion: whatever else followed the link, a person did.
    UPDATE invitations i SET answered_at = now(), suspected_scanner = false
    FROM up
    WHERE i.touchpoint_id = up.touchpoint_id AND i.id = up.invitation_id AND i.answered_at IS NULL
)
SELECT invitation_id, NULL::uuid AS erased FROM up
UNION ALL
SELECT NULL, id FROM erased;

-- name: insert-invitations!
-- Many invitations with their history at once (the demo's past); rollups follow by trigger.
INSERT INTO invitations (touchpoint_id, id, customer_ref, locale, channel, decision, token_hash,
                         token_nonce, expires_at, created_at, first_clicked_at, answered_at)
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::bytea[], $8::bytea[], $9::timestamptz[], $10::timestamptz[],
                     $11::timestamptz[], $12::timestamptz[]);

-- name: get-idempotency-key^
SELECT request_hash, status, body FROM idempotency_keys
WHERE api_key_id = $1 AND key = $2 AND created_at > now() - interval '48 hours';

-- name: claim-idempotency-key$
-- An API answer to an invitation claims its key before writing, in the same transaction: a
-- concurrent request with the key waits here for this one's commit, then replays it. The answer
-- is filled in by set-idempotency-answer once known. Returns nothing when the key is taken.
INSERT INTO idempotency_keys AS k (api_key_id, key, request_hash, status, body)
VALUES ($1, $2, $3, 0, ''::bytea)
ON CONFLICT (api_key_id, key) DO UPDATE SET
    request_hash = excluded.request_hash, status = 0, body = ''::bytea, created_at = now()
WHERE k.created_at <= now() - interval '48 hours'
RETURNING 1;

-- name: set-idempotency-answer!
UPDATE idempotency_keys SET status = $3, body = $4 WHERE api_key_id = $1 AND key = $2;

-- name: purge-idempotency-keys$
-- One batch of stored answers past their 48 hours, oldest first (the index
-- idempotency_keys_created). Keys locked by a batch taking them over are left for the next
-- pass. Returns how many were deleted: fewer than $1 means none are left.
-- The rows are deleted by ctid (a TID scan: a join on the key would read the whole table per
-- batch); they are locked, so the ctids the batch read stay theirs until it commits.
WITH gone AS (
    DELETE FROM idempotency_keys
    WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM idempotency_keys
        WHERE created_at < now() - interval '48 hours'
        ORDER BY created_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED))
    RETURNING 1
)
SELECT count(*) FROM gone;

-- name: forget-click-agents$
-- One batch of clicks older than $1 days loses its user agent (only the scanner check at
-- click time needs it); the click, its time and its score stay. Locked rows are left for
-- the next pass. Returns how many were cleared: fewer than $2 means none are left.
-- By ctid, as the purge above: a TID scan, where a join on the key read the whole table.
WITH cleared AS (
    UPDATE invitation_clicks SET user_agent = ''
    WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM invitation_clicks
        WHERE user_agent <> '' AND clicked_at < now() - make_interval(days => $1)
        LIMIT $2
        FOR UPDATE SKIP LOCKED))
    RETURNING 1
)
SELECT count(*) FROM cleared;

-- name: forget-invitations$
-- One batch of invitations older than $1 days (or than their touchpoint's recontact_days,
-- which still reads them) whose link has expired forgets who they were for: the customer
-- reference, the context sent with them and the event id (often an order number). Rows
-- stay, so the funnel rollup's UPDATE trigger adds and subtracts the same counts.
-- Returns how many were cleared: fewer than $2 means none are left.
-- Touchpoint by touchpoint (the lateral join), so each reads the index invitations_identified
-- from its own cut-off: rows its recontact_days holds back are never read again and again.
-- By ctid, as the purges above.
WITH cleared AS (
    UPDATE invitations SET customer_ref = NULL, context = '{}'::jsonb, event_id = NULL
    WHERE ctid = ANY(ARRAY(
        SELECT d.tid
        FROM touchpoints t CROSS JOIN LATERAL (
            SELECT i.ctid AS tid FROM invitations i
            WHERE i.touchpoint_id = t.id AND i.customer_ref IS NOT NULL
              AND i.created_at < now() - make_interval(days => greatest($1, t.recontact_days))
              AND (i.expires_at IS NULL OR i.expires_at <= now())
            ORDER BY i.created_at  -- the index's order: a backlog is read from its start, never whole
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ) d
        LIMIT $2))
    RETURNING 1
)
SELECT count(*) FROM cleared;

-- name: invitation-response^
SELECT r.id, t.key AS touchpoint, r.invitation_id, r.kind, r.score, r.scale_min, r.scale_max,
       r.comment, r.customer_ref AS customer, r.locale, r.channel, r.source,
       r.context::text AS context, r.sentiment_polarity, r.sentiment_subjectivity,
       r.sentiment_label, r.language, r.themes, r.analyzer_version, r.occurred_at, r.created_at,
       r.updated_at, r.edits
FROM responses r JOIN touchpoints t ON t.id = r.touchpoint_id
WHERE r.touchpoint_id = $1 AND r.invitation_id = $2;

-- Privacy ---------------------------------------------------------------------

-- name: erase-customer^
-- Responses first (theirs by reference or through their invitations); clicks go with
-- their invitations. The rollup triggers subtract every deleted row. The stored answers of
-- Idempotency-Keys (kept 48 hours for replays) carry the comment and the customer too: they
-- go as well, found by the customer in their body (a scan, but erasures are rare).
WITH keys AS (
    DELETE FROM idempotency_keys k
    WHERE convert_from(k.body, 'UTF8')::jsonb ->> 'customer' = $1
), inv AS (
    SELECT touchpoint_id, id FROM invitations WHERE customer_ref = $1
), clicks AS (
    SELECT count(*) AS n FROM invitation_clicks c
    WHERE (c.touchpoint_id, c.invitation_id) IN (SELECT touchpoint_id, id FROM inv)
), resp AS (
    DELETE FROM responses r
    WHERE r.customer_ref = $1 OR (r.touchpoint_id, r.invitation_id) IN (SELECT touchpoint_id, id FROM inv)
    RETURNING 1
)
SELECT (SELECT count(*) FROM inv) AS invitations, (SELECT n FROM clicks) AS clicks,
       (SELECT count(*) FROM resp) AS responses;

-- name: erase-invitations!
DELETE FROM invitations WHERE customer_ref = $1;

-- name: record-erasure!
-- The tombstone: answers for the customer received before now (the database's time) are no
-- longer written (a second erasure moves it on). Committed on its own, before await-writes
-- and the deletion.
INSERT INTO erasures AS e (customer, erased_at) VALUES (sha256(convert_to($1, 'UTF8')), now())
ON CONFLICT (customer) DO UPDATE SET erased_at = greatest(e.erased_at, excluded.erased_at);

-- name: database-time$
-- The database's clock as this statement runs (now() would be its transaction's start).
SELECT clock_timestamp();

-- name: await-writes!
-- Returns once every writer statement that may have read the tombstones before the new one
-- was committed has committed itself (the lock is released as this statement's transaction ends).
SELECT await_writes();

-- name: forget-erasures$
-- Tombstones past their day: an answer waits milliseconds in a writer's queue, so none
-- received before the erasure is still waiting. Returns how many were deleted. Erasures are
-- few: one statement, no batches.
WITH gone AS (
    DELETE FROM erasures WHERE erased_at < now() - interval '24 hours'
    RETURNING 1
)
SELECT count(*) FROM gone;
