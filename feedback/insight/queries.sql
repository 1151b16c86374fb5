-- Insight reads the daily rollups (O(touchpoints x days)); only the verbatim comments and
-- the response list touch the responses table, always through an index.

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

-- name: funnel-totals
SELECT touchpoint_id, sum(invited)::bigint AS invited, sum(clicked)::bigint AS clicked,
    sum(answered)::bigint AS answered, sum(scanner)::bigint AS scanner,
    sum(skipped_inactive + skipped_sampled + skipped_here + skipped_anywhere)::bigint AS not_asked
FROM touchpoint_daily_funnel
WHERE touchpoint_id = ANY($1::bigint[]) AND day BETWEEN $2 AND $3
GROUP BY touchpoint_id;

-- name: theme-totals
SELECT touchpoint_id, kind, theme, sum(responses)::bigint AS responses,
    sum(low)::bigint AS low, sum(high)::bigint AS high, sum(score_sum)::bigint AS score_sum,
    sum(sentiment_n)::bigint AS sentiment_n, sum(sentiment_sum) AS sentiment_sum
FROM touchpoint_daily_themes
WHERE touchpoint_id = ANY($1::bigint[]) AND day BETWEEN $2 AND $3
GROUP BY touchpoint_id, kind, theme
HAVING sum(responses) > 0;

-- name: theme-comments
-- Three verbatims per theme, each a different wording. The candidates are the theme's 200
-- latest answers in the low (pain, $5 = -1) or high (delight, $5 = 1) band, found through
-- the GIN index on themes, touchpoint and time range and cut by LIMIT; of those the
-- strongest sentiment in the band's direction wins.
SELECT th.theme, c.id, c.key AS touchpoint, c.occurred_at, c.score, c.comment,
    c.sentiment_polarity
FROM unnest($1::text[]) AS th(theme)
CROSS JOIN LATERAL (
    SELECT * FROM (
        SELECT DISTINCT ON (lower(btrim(recent.comment))) recent.*
        FROM (
            SELECT r.id, t.key, r.occurred_at, r.score, r.comment, r.sentiment_polarity
            FROM responses r JOIN touchpoints t ON t.id = r.touchpoint_id
            WHERE r.themes @> ARRAY[th.theme]
              AND r.touchpoint_id = ANY($2::bigint[])
              AND r.occurred_at >= $3 AND r.occurred_at < $4
              AND r.comment IS NOT NULL AND r.comment <> ''
              AND score_band(r.kind, r.score) = $5
            ORDER BY r.occurred_at DESC, r.id DESC
            LIMIT 200
        ) recent
        ORDER BY lower(btrim(recent.comment)), $5 * coalesce(recent.sentiment_polarity, 0) DESC,
            recent.occurred_at DESC
    ) distinct_wordings
    ORDER BY $5 * coalesce(distinct_wordings.sentiment_polarity, 0) DESC,
        distinct_wordings.occurred_at DESC, distinct_wordings.id DESC
    LIMIT 3
) c;

-- name: list-responses
-- Keyset on (occurred_at DESC, id DESC); $7/$8 are the last row of the previous page.
SELECT r.id, t.key AS touchpoint, r.kind, r.score, score_band(r.kind, r.score) AS band,
    r.comment, r.customer_ref, r.channel, r.locale, r.source, r.sentiment_polarity,
    r.sentiment_label, r.themes, r.occurred_at
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
ORDER BY r.occurred_at DESC, r.id DESC
LIMIT $12;

-- name: get-owner^
SELECT id, name FROM owners WHERE id = $1 AND ($2::bigint IS NULL OR id = $2);

-- name: get-journey^
SELECT j.id, j.name, j.description FROM journeys j WHERE j.id = $1;

-- name: journey-stages
SELECT id, name, position FROM stages WHERE journey_id = $1 ORDER BY position;

-- name: rescore-count$
SELECT count(*) FROM responses WHERE $1 OR analyzer_version < $2;

-- name: rescore-batch
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
