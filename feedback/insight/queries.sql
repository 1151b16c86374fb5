-- Insight reads the daily and monthly rollups (O(touchpoints x days)); only the verbatim
-- comments and the response list touch the responses table, always through an index.

-- name: selected-touchpoints
-- The touchpoints a selection names, by their current journey, stage, owner and channel.
-- $6: an owner key's owner id limits the answer to that owner's touchpoints.
SELECT t.id, t.key, t.name, s.journey_id, t.stage_id, s.name AS stage, t.channel,
    t.owner_id, o.name AS owner, t.kind, t.target
FROM touchpoints t
JOIN stages s ON s.id = t.stage_id
JOIN owners o ON o.id = t.owner_id
WHERE ($1::bigint IS NULL OR s.journey_id = $1)
  AND ($2::bigint IS NULL OR t.stage_id = $2)
  AND ($3::bigint IS NULL OR t.owner_id = $3)
  AND ($4::text IS NULL OR t.key = $4)
  AND ($5::text IS NULL OR t.channel = $5)
  AND ($6::bigint IS NULL OR t.owner_id = $6)
ORDER BY s.journey_id, s.position, t.key;

-- name: daily-rollups
SELECT touchpoint_id, day, kind, responses,
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
    comments, sentiment_n, sentiment_sum, sentiment_sq,
    negative, neutral, positive, mixed, unscored
FROM touchpoint_daily
WHERE touchpoint_id = ANY($1::bigint[]) AND day BETWEEN $2 AND $3 AND responses > 0;

-- name: period-rollups
-- The rollups of [$2, $3] summed per touchpoint and kind within each (ISO week, month) part,
-- never across $4 (the first day of the current period after the previous one): every week
-- or month bucket is a union of these parts, so reports bucket them as they would the days.
-- Whole parts come from touchpoint_week_parts as they are, [$5, $6) and [$7, $8) by first
-- day; the days at the periods' ends, $9, from touchpoint_daily, summed per part here (never
-- a whole part's). day is the first day of the part (or of its days in the period). Same
-- columns as daily-rollups. The week and month starts are date arithmetic (1900-01-01 was a
-- Monday): extract() is numeric and costs more than the sums.
SELECT touchpoint_id, part AS day, kind, responses, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
    comments, sentiment_n, sentiment_sum, sentiment_sq, negative, neutral, positive, mixed,
    unscored
FROM touchpoint_week_parts
WHERE touchpoint_id = ANY($1::bigint[]) AND responses > 0
  AND ((part >= $5 AND part < $6) OR (part >= $7 AND part < $8))
UNION ALL
SELECT touchpoint_id, min(day) AS day, kind, sum(responses)::int AS responses,
    sum(s0)::int AS s0, sum(s1)::int AS s1, sum(s2)::int AS s2, sum(s3)::int AS s3,
    sum(s4)::int AS s4, sum(s5)::int AS s5, sum(s6)::int AS s6, sum(s7)::int AS s7,
    sum(s8)::int AS s8, sum(s9)::int AS s9, sum(s10)::int AS s10,
    sum(comments)::int AS comments, sum(sentiment_n)::int AS sentiment_n,
    sum(sentiment_sum) AS sentiment_sum, sum(sentiment_sq) AS sentiment_sq,
    sum(negative)::int AS negative, sum(neutral)::int AS neutral,
    sum(positive)::int AS positive, sum(mixed)::int AS mixed, sum(unscored)::int AS unscored
FROM touchpoint_daily
WHERE touchpoint_id = ANY($1::bigint[]) AND day = ANY($9::date[]) AND responses > 0
  AND day BETWEEN $2 AND $3
GROUP BY touchpoint_id, kind, day >= $4::date,
    day - (day - date '1900-01-01') % 7, day - (date_part('day', day)::int - 1);

-- name: daily-totals
-- touchpoint_daily summed over the touchpoints, per day and kind (the scores API's series).
SELECT day, kind, sum(responses)::bigint AS responses,
    sum(s0)::bigint AS s0, sum(s1)::bigint AS s1, sum(s2)::bigint AS s2, sum(s3)::bigint AS s3,
    sum(s4)::bigint AS s4, sum(s5)::bigint AS s5, sum(s6)::bigint AS s6, sum(s7)::bigint AS s7,
    sum(s8)::bigint AS s8, sum(s9)::bigint AS s9, sum(s10)::bigint AS s10
FROM touchpoint_daily
WHERE touchpoint_id = ANY($1::bigint[]) AND day BETWEEN $2 AND $3 AND responses > 0
GROUP BY day, kind;

-- name: funnel-totals
SELECT touchpoint_id, sum(invited)::bigint AS invited, sum(clicked)::bigint AS clicked,
    sum(answered)::bigint AS answered, sum(scanner)::bigint AS scanner,
    sum(skipped_inactive + skipped_sampled + skipped_here + skipped_anywhere)::bigint AS not_asked
FROM touchpoint_daily_funnel
WHERE touchpoint_id = ANY($1::bigint[]) AND day BETWEEN $2 AND $3
GROUP BY touchpoint_id;

-- name: theme-totals
-- Theme totals of one or more periods (numbered by $2), each read in pieces: months
-- [first, stop) from the monthly rollup or days [first, stop) from the daily one, added
-- (sign 1) or taken away (sign -1); repository.theme_pieces cuts a period so that few daily
-- rows are read. The integer columns are exact either way. One statement for all periods,
-- as a nested loop over the pieces: a few thousand rows never pay for parallel workers.
SELECT x.period, x.touchpoint_id, x.kind, x.theme, sum(x.responses)::bigint AS responses,
    sum(x.low)::bigint AS low, sum(x.high)::bigint AS high,
    sum(x.score_sum)::bigint AS score_sum, sum(x.sentiment_n)::bigint AS sentiment_n,
    sum(x.sentiment_sum) AS sentiment_sum
FROM unnest($2::int[], $3::boolean[], $4::int[], $5::date[], $6::date[])
     AS p(period, monthly, sign, first, stop)
CROSS JOIN LATERAL (
    SELECT p.period, m.touchpoint_id, m.kind, m.theme, p.sign * m.responses AS responses,
        p.sign * m.low AS low, p.sign * m.high AS high, p.sign * m.score_sum AS score_sum,
        p.sign * m.sentiment_n AS sentiment_n, p.sign * m.sentiment_sum AS sentiment_sum
    FROM touchpoint_monthly_themes m
    WHERE p.monthly AND m.touchpoint_id = ANY($1::bigint[])
      AND m.month >= p.first AND m.month < p.stop
    UNION ALL
    SELECT p.period, d.touchpoint_id, d.kind, d.theme, p.sign * d.responses,
        p.sign * d.low, p.sign * d.high, p.sign * d.score_sum, p.sign * d.sentiment_n,
        p.sign * d.sentiment_sum
    FROM touchpoint_daily_themes d
    WHERE NOT p.monthly AND d.touchpoint_id = ANY($1::bigint[])
      AND d.day >= p.first AND d.day < p.stop
) x
GROUP BY x.period, x.touchpoint_id, x.kind, x.theme
HAVING sum(x.responses) > 0;

-- name: theme-comments
-- Three verbatims per request (a theme, a band and a set of touchpoints; one row per
-- touchpoint in $1..$4), each a different wording. The candidates are the theme's 200
-- latest answers with a comment in the low (pain, band -1) or high (delight, band 1) band:
-- per touchpoint at most 200 read backwards from response_theme_comments, then the 200
-- latest of those. Of those, one per wording (the md5 of lower(btrim(comment))), the
-- strongest sentiment in the band's direction wins; only the three chosen responses are read.
-- Each request carries its touchpoints as an array, so a request no longer scans every
-- request's (request, touchpoint) rows to find its own.
-- Over several touchpoints, `since` first moves up to the latest k-th answer's time among
-- them (k = 200 / touchpoints, rounded up): the touchpoints holding k answers hold at least
-- 200 from then on, so the 200 latest all lie there and each touchpoint reads only its
-- answers since then, not 200 of them.
WITH requests AS (
    SELECT w.request, w.theme, w.band, array_agg(DISTINCT w.touchpoint_id) AS touchpoint_ids
    FROM unnest($1::int[], $2::text[], $3::int[], $4::bigint[])
         AS w(request, theme, band, touchpoint_id)
    GROUP BY w.request, w.theme, w.band
), bounded AS (
    SELECT q.*, coalesce(b.since, $5) AS since
    FROM requests q
    CROSS JOIN LATERAL (
        SELECT CASE WHEN count(kth.occurred_at) * (199 / cardinality(q.touchpoint_ids) + 1)
                         >= 200 THEN min(kth.occurred_at) END AS since
        FROM unnest(q.touchpoint_ids) AS w(touchpoint_id)
        LEFT JOIN LATERAL (
            SELECT m.occurred_at
            FROM response_theme_comments m
            WHERE m.touchpoint_id = w.touchpoint_id AND m.theme = q.theme
              AND m.band = q.band AND m.occurred_at >= $5 AND m.occurred_at < $6
            ORDER BY m.occurred_at DESC, m.id DESC
            OFFSET 199 / cardinality(q.touchpoint_ids)
            LIMIT 1
        ) kth ON true
        WHERE cardinality(q.touchpoint_ids) > 2
    ) b
), chosen AS (
    SELECT q.request, q.band, c.touchpoint_id, c.id, c.occurred_at, c.sentiment_polarity
    FROM bounded q
    CROSS JOIN LATERAL (
        SELECT * FROM (
            SELECT DISTINCT ON (latest.wording) latest.*
            FROM (
                SELECT m.touchpoint_id, m.occurred_at, m.id, m.wording, m.sentiment_polarity
                FROM unnest(q.touchpoint_ids) AS w(touchpoint_id)
                CROSS JOIN LATERAL (
                    SELECT m.touchpoint_id, m.occurred_at, m.id, m.wording, m.sentiment_polarity
                    FROM response_theme_comments m
                    WHERE m.touchpoint_id = w.touchpoint_id AND m.theme = q.theme
                      AND m.band = q.band AND m.occurred_at >= q.since AND m.occurred_at < $6
                    ORDER BY m.occurred_at DESC, m.id DESC
                    LIMIT 200
                ) m
                ORDER BY m.occurred_at DESC, m.id DESC
                LIMIT 200
            ) latest
            ORDER BY latest.wording, q.band * coalesce(latest.sentiment_polarity, 0) DESC,
                latest.occurred_at DESC
        ) distinct_wordings
        ORDER BY q.band * coalesce(distinct_wordings.sentiment_polarity, 0) DESC,
            distinct_wordings.occurred_at DESC, distinct_wordings.id DESC
        LIMIT 3
    ) c
)
SELECT c.request, r.id, t.key AS touchpoint, r.occurred_at, r.score, r.comment,
    r.sentiment_polarity, r.sentiment_subjectivity, r.sentiment_label, r.language
FROM chosen c
JOIN responses r ON r.touchpoint_id = c.touchpoint_id AND r.id = c.id
JOIN touchpoints t ON t.id = r.touchpoint_id
ORDER BY c.request, c.band * coalesce(c.sentiment_polarity, 0) DESC, c.occurred_at DESC, c.id DESC;

-- name: list-responses
-- Keyset on (occurred_at DESC, id DESC); $7/$8 are the last row of the previous page.
-- The columns of get-response and of collection's invitation-response: one answer, one shape.
SELECT r.id, t.key AS touchpoint, r.invitation_id, r.kind, r.score, r.scale_min, r.scale_max,
    r.comment, r.customer_ref AS customer, r.locale, r.channel, r.source,
    r.context::text AS context, r.sentiment_polarity, r.sentiment_subjectivity,
    r.sentiment_label, r.language, r.themes, r.analyzer_version, r.occurred_at, r.created_at,
    r.updated_at, r.edits
FROM responses r JOIN touchpoints t ON t.id = r.touchpoint_id
WHERE r.touchpoint_id = ANY($1::bigint[])
  AND r.occurred_at >= $2 AND r.occurred_at < $3
  AND ($4::text IS NULL OR r.customer_ref = $4)
  AND ($5::int IS NULL OR score_band(r.kind, r.score) = $5)
  AND ($6::boolean IS NULL OR (r.comment IS NOT NULL AND r.comment <> '') = $6)
  AND ($7::timestamptz IS NULL OR (r.occurred_at, r.id) < ($7, $8::uuid))
  AND ($9::text IS NULL OR r.sentiment_label = $9)
  AND ($10::text IS NULL OR r.themes @> ARRAY[$10::text])
  AND ($11::text IS NULL OR r.kind = $11)
  -- The channel the answer came through (as each item shows it), not its touchpoint's.
  AND ($13::text IS NULL OR r.channel = $13)
ORDER BY r.occurred_at DESC, r.id DESC
LIMIT $12;

-- name: get-response^
-- One answer by id; an owner key ($2) sees only its own touchpoints' answers.
SELECT r.id, t.key AS touchpoint, r.invitation_id, r.kind, r.score, r.scale_min, r.scale_max,
    r.comment, r.customer_ref AS customer, r.locale, r.channel, r.source,
    r.context::text AS context, r.sentiment_polarity, r.sentiment_subjectivity,
    r.sentiment_label, r.language, r.themes, r.analyzer_version, r.occurred_at, r.created_at,
    r.updated_at, r.edits
FROM responses r JOIN touchpoints t ON t.id = r.touchpoint_id
WHERE r.id = $1 AND ($2::bigint IS NULL OR t.owner_id = $2);

-- name: get-owner^
SELECT id, name FROM owners WHERE id = $1 AND ($2::bigint IS NULL OR id = $2);

-- name: get-journey^
SELECT j.id, j.name, j.description FROM journeys j WHERE j.id = $1;

-- The journeys an owner report links to, by name.
-- name: journey-names
SELECT id, name FROM journeys WHERE id = ANY($1::bigint[]) ORDER BY name, id;

-- Share links: a link's MAC covers its owner's (journey's) share_epoch (migration 0005).

-- name: owner-share-epoch$
SELECT share_epoch FROM owners WHERE id = $1;

-- name: journey-share-epoch$
SELECT share_epoch FROM journeys WHERE id = $1;

-- name: sign-owner-share-epoch$
-- Before signing: waits for a revocation in flight (FOR SHARE conflicts with its FOR NO KEY
-- UPDATE) and reads the epoch it committed, so a link asked for meanwhile is made after it.
SELECT share_epoch FROM owners WHERE id = $1 FOR SHARE;

-- name: sign-journey-share-epoch$
SELECT share_epoch FROM journeys WHERE id = $1 FOR SHARE;

-- name: lock-owner-shares$
-- Before a revocation: a second one (or a link being signed) waits for this one's result.
SELECT id FROM owners WHERE id = $1 FOR NO KEY UPDATE;

-- name: lock-journey-shares$
SELECT id FROM journeys WHERE id = $1 FOR NO KEY UPDATE;

-- name: revoke-owner-shares$
-- clock_timestamp(): the time the lock was held, not when the transaction began.
UPDATE owners SET share_epoch = share_epoch + 1, share_links_revoked_at = clock_timestamp()
WHERE id = $1 RETURNING share_links_revoked_at;

-- name: revoke-journey-shares$
UPDATE journeys SET share_epoch = share_epoch + 1, share_links_revoked_at = clock_timestamp()
WHERE id = $1 RETURNING share_links_revoked_at;

-- name: journey-stages
SELECT id, name, position FROM stages WHERE journey_id = $1 ORDER BY position;

-- name: rescore-count$
-- Answers read by an analyser older than $1: an index-only scan of responses_analyzer_version
-- (migration 0012), a few pages when there are none, as at nearly every start.
SELECT count(*) FROM responses WHERE analyzer_version < $1;

-- name: rescore-count-all$
SELECT count(*) FROM responses;

-- name: rescore-batch
-- The next stale answers in key order: a few left among many are found by the index on
-- analyzer_version, a fresh upgrade's many by walking the primary key (the planner picks).
SELECT touchpoint_id, id, comment FROM responses
WHERE ($1 OR analyzer_version < $2)
  AND (touchpoint_id, id) > ($3::bigint, $4::uuid)
ORDER BY touchpoint_id, id
LIMIT $5;

-- name: rescore-update!
UPDATE responses r SET
    sentiment_polarity = u.polarity,
    sentiment_subjectivity = u.subjectivity,
    sentiment_label = u.label,
    language = u.language,
    -- Themes travel as one text per row, joined by the unit separator.
    themes = string_to_array(u.themes, chr(31)),
    analyzer_version = $8
FROM unnest($1::bigint[], $2::uuid[], $3::real[], $4::real[], $5::text[], $6::text[],
            $7::text[], $9::text[])
     AS u(touchpoint_id, id, polarity, subjectivity, label, language, themes, comment)
-- A comment edited since it was read keeps what its edit computed.
WHERE r.touchpoint_id = u.touchpoint_id AND r.id = u.id
  AND r.comment IS NOT DISTINCT FROM u.comment;

-- name: rescore-try-lock$
-- Session-level: one instance re-reads at a time; the lock goes with its connection.
SELECT pg_try_advisory_lock($1);

-- name: rescore-unlock$
SELECT pg_advisory_unlock($1);

-- name: fold-rollups$
-- The answers committed so far, folded into the rollups (migration 0018); $1: wait for a fold
-- in progress (a reader) or skip the turn (a folder). Returns how many row images it folded.
SELECT fold_rollups($1);

-- name: rollup-queue-pages$
SELECT pg_relation_size('rollup_queue') / current_setting('block_size')::bigint;
