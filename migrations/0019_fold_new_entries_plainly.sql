-- A fold adds the comment index's new entries with a plain INSERT, not INSERT ... ON CONFLICT
-- DO NOTHING (docs/scaling.md, "Eleventh session").
--
-- The comment index is most of a fold's work: an answer with a comment, a theme and a low or
-- high score has an entry per theme (about 2.2 an answer on the bench's comments), and ON
-- CONFLICT made each insert look the key up before inserting it, then insert it speculatively
-- and confirm it (one more WAL record an entry). Measured on folds of 1,100 answers (schedstat of
-- the folding backend, eight alternating folds of each): 36 ms of CPU a fold with it, 28 ms without.
--
-- An entry a fold adds is new by construction: entries change only here, one fold at a time,
-- and an answer's row image is queued once (+1) and taken back once (-1), so a key with a net
-- +1 has no entry. Should one exist all the same, the fold must not fail for good (every reader
-- of the rollups folds first): on a unique violation its statement is undone and run again as
-- 0018 wrote it, with ON CONFLICT DO NOTHING. Otherwise the function is 0018's, unchanged.

-- Folds every queued row it can see into the rollups; returns how many. One fold at a time
-- (advisory lock 7463021911, see surveys/queries.sql for the family): with `wait`, a reader
-- waits for a fold in progress, whose rows it then reads; without, a folder skips its turn.
-- One statement, one snapshot: the rows deleted from the queue are exactly the rows summed.
-- Each statement in this (volatile) function takes a new snapshot, so the fold sees the
-- rollups as the fold before it left them.
CREATE OR REPLACE FUNCTION fold_rollups(wait boolean DEFAULT true) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
    fold text;
BEGIN
    IF NOT EXISTS (SELECT FROM rollup_queue) THEN
        RETURN 0;  -- everything committed is folded (a fold in progress still shows its rows)
    END IF;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(7463021911);
    ELSIF NOT pg_try_advisory_xact_lock(7463021911) THEN
        RETURN 0;
    END IF;
    -- Planned at every call (EXECUTE), not once per session: a plan cached while the comment
    -- index was small joined it the wrong way round (every entry read for every fold), and a
    -- folder's connection lives for hours. Planning takes about 1.5 ms.
    fold := $fold$
    WITH q AS MATERIALIZED (
        DELETE FROM rollup_queue RETURNING *
    ), days AS MATERIALIZED (
        SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind,
            sum(sign)::int AS responses,
            coalesce(sum(sign) FILTER (WHERE score = 0), 0)::int AS s0,
            coalesce(sum(sign) FILTER (WHERE score = 1), 0)::int AS s1,
            coalesce(sum(sign) FILTER (WHERE score = 2), 0)::int AS s2,
            coalesce(sum(sign) FILTER (WHERE score = 3), 0)::int AS s3,
            coalesce(sum(sign) FILTER (WHERE score = 4), 0)::int AS s4,
            coalesce(sum(sign) FILTER (WHERE score = 5), 0)::int AS s5,
            coalesce(sum(sign) FILTER (WHERE score = 6), 0)::int AS s6,
            coalesce(sum(sign) FILTER (WHERE score = 7), 0)::int AS s7,
            coalesce(sum(sign) FILTER (WHERE score = 8), 0)::int AS s8,
            coalesce(sum(sign) FILTER (WHERE score = 9), 0)::int AS s9,
            coalesce(sum(sign) FILTER (WHERE score = 10), 0)::int AS s10,
            coalesce(sum(sign) FILTER (WHERE commented), 0)::int AS comments,
            coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0)::int AS sentiment_n,
            coalesce(sum(sign * sentiment_polarity::double precision), 0) AS sentiment_sum,
            coalesce(sum(sign * (sentiment_polarity::double precision) ^ 2), 0) AS sentiment_sq,
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0)::int AS negative,
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'neutral'), 0)::int AS neutral,
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)::int AS positive,
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'mixed'), 0)::int AS mixed,
            coalesce(sum(sign) FILTER (WHERE commented AND sentiment_label IS NULL), 0)::int AS unscored
        FROM q
        GROUP BY 1, 2, 3
    ), daily AS (
        INSERT INTO touchpoint_daily AS t (
            touchpoint_id, day, kind, responses, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
            comments, sentiment_n, sentiment_sum, sentiment_sq, negative, neutral, positive,
            mixed, unscored)
        SELECT * FROM days
        ORDER BY 1, 2, 3
        ON CONFLICT (touchpoint_id, day, kind) DO UPDATE SET
            responses = t.responses + excluded.responses,
            s0 = t.s0 + excluded.s0,
            s1 = t.s1 + excluded.s1,
            s2 = t.s2 + excluded.s2,
            s3 = t.s3 + excluded.s3,
            s4 = t.s4 + excluded.s4,
            s5 = t.s5 + excluded.s5,
            s6 = t.s6 + excluded.s6,
            s7 = t.s7 + excluded.s7,
            s8 = t.s8 + excluded.s8,
            s9 = t.s9 + excluded.s9,
            s10 = t.s10 + excluded.s10,
            comments = t.comments + excluded.comments,
            sentiment_n = t.sentiment_n + excluded.sentiment_n,
            sentiment_sum = t.sentiment_sum + excluded.sentiment_sum,
            sentiment_sq = t.sentiment_sq + excluded.sentiment_sq,
            negative = t.negative + excluded.negative,
            neutral = t.neutral + excluded.neutral,
            positive = t.positive + excluded.positive,
            mixed = t.mixed + excluded.mixed,
            unscored = t.unscored + excluded.unscored
    ), parts AS (
        INSERT INTO touchpoint_week_parts AS t (
            touchpoint_id, part, kind, responses, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
            comments, sentiment_n, sentiment_sum, sentiment_sq, negative, neutral, positive,
            mixed, unscored)
        SELECT touchpoint_id, week_part(day), kind,
            sum(responses), sum(s0), sum(s1), sum(s2), sum(s3), sum(s4), sum(s5), sum(s6),
            sum(s7), sum(s8), sum(s9), sum(s10), sum(comments), sum(sentiment_n),
            sum(sentiment_sum), sum(sentiment_sq), sum(negative), sum(neutral), sum(positive),
            sum(mixed), sum(unscored)
        FROM days
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT (touchpoint_id, part, kind) DO UPDATE SET
            responses = t.responses + excluded.responses,
            s0 = t.s0 + excluded.s0,
            s1 = t.s1 + excluded.s1,
            s2 = t.s2 + excluded.s2,
            s3 = t.s3 + excluded.s3,
            s4 = t.s4 + excluded.s4,
            s5 = t.s5 + excluded.s5,
            s6 = t.s6 + excluded.s6,
            s7 = t.s7 + excluded.s7,
            s8 = t.s8 + excluded.s8,
            s9 = t.s9 + excluded.s9,
            s10 = t.s10 + excluded.s10,
            comments = t.comments + excluded.comments,
            sentiment_n = t.sentiment_n + excluded.sentiment_n,
            sentiment_sum = t.sentiment_sum + excluded.sentiment_sum,
            sentiment_sq = t.sentiment_sq + excluded.sentiment_sq,
            negative = t.negative + excluded.negative,
            neutral = t.neutral + excluded.neutral,
            positive = t.positive + excluded.positive,
            mixed = t.mixed + excluded.mixed,
            unscored = t.unscored + excluded.unscored
    ), theme_days AS MATERIALIZED (
        SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind, theme,
            sum(sign)::int AS responses,
            coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = -1), 0)::int AS low,
            coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = 1), 0)::int AS high,
            sum(sign * score)::bigint AS score_sum,
            coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0)::int AS sentiment_n,
            coalesce(sum(sign * sentiment_polarity::double precision), 0) AS sentiment_sum,
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0)::int AS negative,
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)::int AS positive
        FROM q, unnest(q.themes) AS theme
        GROUP BY 1, 2, 3, 4
    ), theme_daily AS (
        INSERT INTO touchpoint_daily_themes AS t (
            touchpoint_id, day, kind, theme, responses, low, high, score_sum, sentiment_n,
            sentiment_sum, negative, positive)
        SELECT * FROM theme_days
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (touchpoint_id, day, kind, theme) DO UPDATE SET
            responses = t.responses + excluded.responses,
            low = t.low + excluded.low,
            high = t.high + excluded.high,
            score_sum = t.score_sum + excluded.score_sum,
            sentiment_n = t.sentiment_n + excluded.sentiment_n,
            sentiment_sum = t.sentiment_sum + excluded.sentiment_sum,
            negative = t.negative + excluded.negative,
            positive = t.positive + excluded.positive
    ), theme_months AS (
        INSERT INTO touchpoint_monthly_themes AS t (
            touchpoint_id, month, kind, theme, responses, low, high, score_sum, sentiment_n,
            sentiment_sum, negative, positive)
        SELECT touchpoint_id, date_trunc('month', day::timestamp)::date, kind, theme,
            sum(responses), sum(low), sum(high), sum(score_sum), sum(sentiment_n),
            sum(sentiment_sum), sum(negative), sum(positive)
        FROM theme_days
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (touchpoint_id, month, kind, theme) DO UPDATE SET
            responses = t.responses + excluded.responses,
            low = t.low + excluded.low,
            high = t.high + excluded.high,
            score_sum = t.score_sum + excluded.score_sum,
            sentiment_n = t.sentiment_n + excluded.sentiment_n,
            sentiment_sum = t.sentiment_sum + excluded.sentiment_sum,
            negative = t.negative + excluded.negative,
            positive = t.positive + excluded.positive
    ), images AS (
        -- One row per row image and index entry: an answer naming a theme twice has one entry.
        SELECT DISTINCT q.seq, q.sign, q.touchpoint_id, theme, score_band(q.kind, q.score) AS band,
            q.occurred_at, q.id, q.wording, q.sentiment_polarity
        FROM q, unnest(q.themes) AS theme
        WHERE q.wording IS NOT NULL
    ), entries AS MATERIALIZED (
        SELECT touchpoint_id, theme, band, occurred_at, id, sum(sign) AS net,
            (array_agg(wording ORDER BY seq DESC) FILTER (WHERE sign = 1))[1] AS wording,
            (array_agg(sentiment_polarity ORDER BY seq DESC) FILTER (WHERE sign = 1))[1] AS sentiment_polarity
        FROM images
        GROUP BY 1, 2, 3, 4, 5
    ), removed AS (
        DELETE FROM response_theme_comments c
        USING entries e
        WHERE e.net < 0 AND c.touchpoint_id = e.touchpoint_id AND c.theme = e.theme
          AND c.band = e.band AND c.occurred_at = e.occurred_at AND c.id = e.id
    ), added AS (
        INSERT INTO response_theme_comments (
            touchpoint_id, theme, band, occurred_at, id, wording, sentiment_polarity)
        SELECT touchpoint_id, theme, band, occurred_at, id, wording, sentiment_polarity
        FROM entries
        WHERE net > 0
        ORDER BY 1, 2, 3, 4, 5
        /* on conflict */
    ), rewritten AS (
        UPDATE response_theme_comments c
        SET wording = e.wording, sentiment_polarity = e.sentiment_polarity
        FROM entries e
        WHERE e.net = 0 AND e.wording IS NOT NULL AND c.touchpoint_id = e.touchpoint_id
          AND c.theme = e.theme AND c.band = e.band AND c.occurred_at = e.occurred_at
          AND c.id = e.id
          AND (c.wording, c.sentiment_polarity) IS DISTINCT FROM (e.wording, e.sentiment_polarity)
    )
    SELECT count(*) FROM q
    $fold$;
    BEGIN
        EXECUTE fold INTO folded;
    EXCEPTION WHEN unique_violation THEN
        EXECUTE replace(fold, '/* on conflict */', 'ON CONFLICT DO NOTHING') INTO folded;
    END;
    RETURN folded;
END
$$;
