-- The rollups of responses in one trigger, with less work per group commit (docs/scaling.md,
-- "Where one machine's ingest time goes"). The rollup tables and the index of commented answers
-- stay what they were, written in the same transaction as the answers, exact.
--
-- Until now a statement on responses ran two trigger functions (0002's daily rollups, 0003's
-- monthly themes and comment index), and the daily rollup's INSERT ... ON CONFLICT fired two
-- more on touchpoint_daily (0004's week parts: one for the rows it inserted, one with the old
-- and new images of the rows it updated; both ran a full statement on every batch). Counted
-- under callgrind, the rollups were 6.3M of the 11.7M instructions PostgreSQL spent on a flush
-- of 16 answers, 1.1M of them the week parts' four rows. Now one function writes all of them,
-- aggregating the rows once per grain (bench/flush_cost.py measures a flush).
--
-- Nothing else writes touchpoint_daily, so the week parts, now summed from the day totals this
-- function writes rather than by a trigger on touchpoint_daily, still equal the sums of their days.

-- No response is written while the triggers are swapped.
LOCK TABLE responses IN SHARE ROW EXCLUSIVE MODE;

-- Not STRICT, so that PostgreSQL inlines it where it is called (the week parts' CHECK and their
-- GROUP BY): 0004's STRICT body around greatest(), which is not strict, could not be inlined,
-- and each call ran the SQL function executor. A NULL day still gives NULL.
CREATE OR REPLACE FUNCTION week_part(day date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN greatest(day - (day - date '1900-01-01') % 7, day - (date_part('day', day)::int - 1));

DROP TRIGGER touchpoint_daily_week_parts_insert ON touchpoint_daily;
DROP TRIGGER touchpoint_daily_week_parts_update ON touchpoint_daily;
DROP TRIGGER touchpoint_daily_week_parts_delete ON touchpoint_daily;
DROP FUNCTION touchpoint_daily_week_parts();
DROP TRIGGER responses_rollup_insert ON responses;
DROP TRIGGER responses_rollup_update ON responses;
DROP TRIGGER responses_rollup_delete ON responses;
DROP FUNCTION responses_rollup();
DROP TRIGGER responses_theme_rollups_insert ON responses;
DROP TRIGGER responses_theme_rollups_update ON responses;
DROP TRIGGER responses_theme_rollups_delete ON responses;
DROP FUNCTION responses_theme_rollups();

-- Static SQL, one branch per operation (a transition table exists only for its own
-- operations), so each statement is planned once per session. Each branch aggregates the rows
-- once per grain: the days, then their week parts from the days (one statement); the themes by
-- day, then their months from those (one statement); the comment index. A data-modifying WITH
-- runs after its statement's main INSERT, so the rows are locked parts before days and months
-- before daily themes: the same order in every statement, each table's rows in key order.
-- The comment index's wording (an md5 of the lowered comment) is computed once per answer, not
-- once per theme. Inserted answers are new rows with new ids, so none of their entries is in
-- the index yet: their insert needs no ON CONFLICT (a speculative insert probed the index twice
-- for each entry); an edit's, after deleting the old entries, keeps DO NOTHING.
CREATE FUNCTION responses_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH days AS MATERIALIZED (
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
                coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''), 0)::int AS comments,
                coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0)::int AS sentiment_n,
                coalesce(sum(sign * sentiment_polarity::double precision), 0) AS sentiment_sum,
                coalesce(sum(sign * (sentiment_polarity::double precision) ^ 2), 0) AS sentiment_sq,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0)::int AS negative,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'neutral'), 0)::int AS neutral,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)::int AS positive,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'mixed'), 0)::int AS mixed,
                coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''
                                AND sentiment_label IS NULL), 0)::int AS unscored
            FROM (SELECT r.*, 1 AS sign FROM new_rows r) src
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
        )
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
            unscored = t.unscored + excluded.unscored;
        WITH days AS MATERIALIZED (
            SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind, theme,
                sum(sign)::int AS responses,
                coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = -1), 0)::int AS low,
                coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = 1), 0)::int AS high,
                sum(sign * score)::bigint AS score_sum,
                coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0)::int AS sentiment_n,
                coalesce(sum(sign * sentiment_polarity::double precision), 0) AS sentiment_sum,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0)::int AS negative,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)::int AS positive
            FROM (SELECT r.*, 1 AS sign FROM new_rows r) src, unnest(src.themes) AS theme
            GROUP BY 1, 2, 3, 4
        ), daily AS (
            INSERT INTO touchpoint_daily_themes AS t (
                touchpoint_id, day, kind, theme, responses, low, high, score_sum, sentiment_n,
                sentiment_sum, negative, positive)
            SELECT * FROM days
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
        )
        INSERT INTO touchpoint_monthly_themes AS t (
            touchpoint_id, month, kind, theme, responses, low, high, score_sum, sentiment_n,
            sentiment_sum, negative, positive)
        SELECT touchpoint_id, date_trunc('month', day::timestamp)::date, kind, theme,
            sum(responses), sum(low), sum(high), sum(score_sum), sum(sentiment_n),
            sum(sentiment_sum), sum(negative), sum(positive)
        FROM days
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
            positive = t.positive + excluded.positive;
        INSERT INTO response_theme_comments (
            touchpoint_id, theme, band, occurred_at, id, wording, sentiment_polarity)
        SELECT DISTINCT ON (n.touchpoint_id, theme, n.id) n.touchpoint_id, theme, n.band,
            n.occurred_at, n.id, n.wording, n.sentiment_polarity
        FROM (SELECT touchpoint_id, id, themes, occurred_at, sentiment_polarity,
                  score_band(kind, score) AS band, decode(md5(lower(btrim(comment))), 'hex') AS wording
              FROM new_rows
              WHERE comment IS NOT NULL AND comment <> '' AND score_band(kind, score) <> 0
                AND cardinality(themes) > 0
              OFFSET 0) n, unnest(n.themes) AS theme
        ORDER BY n.touchpoint_id, theme, n.id;
    ELSIF TG_OP = 'DELETE' THEN
        WITH days AS MATERIALIZED (
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
                coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''), 0)::int AS comments,
                coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0)::int AS sentiment_n,
                coalesce(sum(sign * sentiment_polarity::double precision), 0) AS sentiment_sum,
                coalesce(sum(sign * (sentiment_polarity::double precision) ^ 2), 0) AS sentiment_sq,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0)::int AS negative,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'neutral'), 0)::int AS neutral,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)::int AS positive,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'mixed'), 0)::int AS mixed,
                coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''
                                AND sentiment_label IS NULL), 0)::int AS unscored
            FROM (SELECT r.*, -1 AS sign FROM old_rows r) src
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
        )
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
            unscored = t.unscored + excluded.unscored;
        WITH days AS MATERIALIZED (
            SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind, theme,
                sum(sign)::int AS responses,
                coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = -1), 0)::int AS low,
                coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = 1), 0)::int AS high,
                sum(sign * score)::bigint AS score_sum,
                coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0)::int AS sentiment_n,
                coalesce(sum(sign * sentiment_polarity::double precision), 0) AS sentiment_sum,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0)::int AS negative,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)::int AS positive
            FROM (SELECT r.*, -1 AS sign FROM old_rows r) src, unnest(src.themes) AS theme
            GROUP BY 1, 2, 3, 4
        ), daily AS (
            INSERT INTO touchpoint_daily_themes AS t (
                touchpoint_id, day, kind, theme, responses, low, high, score_sum, sentiment_n,
                sentiment_sum, negative, positive)
            SELECT * FROM days
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
        )
        INSERT INTO touchpoint_monthly_themes AS t (
            touchpoint_id, month, kind, theme, responses, low, high, score_sum, sentiment_n,
            sentiment_sum, negative, positive)
        SELECT touchpoint_id, date_trunc('month', day::timestamp)::date, kind, theme,
            sum(responses), sum(low), sum(high), sum(score_sum), sum(sentiment_n),
            sum(sentiment_sum), sum(negative), sum(positive)
        FROM days
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
            positive = t.positive + excluded.positive;
        DELETE FROM response_theme_comments c
        USING (SELECT DISTINCT o.touchpoint_id, theme, score_band(o.kind, o.score) AS band,
                   o.occurred_at, o.id
               FROM old_rows o, unnest(o.themes) AS theme
               WHERE o.comment IS NOT NULL AND o.comment <> ''
                 AND score_band(o.kind, o.score) <> 0) gone
        WHERE c.touchpoint_id = gone.touchpoint_id AND c.theme = gone.theme
          AND c.band = gone.band AND c.occurred_at = gone.occurred_at AND c.id = gone.id;
    ELSE  -- UPDATE
        WITH days AS MATERIALIZED (
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
                coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''), 0)::int AS comments,
                coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0)::int AS sentiment_n,
                coalesce(sum(sign * sentiment_polarity::double precision), 0) AS sentiment_sum,
                coalesce(sum(sign * (sentiment_polarity::double precision) ^ 2), 0) AS sentiment_sq,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0)::int AS negative,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'neutral'), 0)::int AS neutral,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)::int AS positive,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'mixed'), 0)::int AS mixed,
                coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''
                                AND sentiment_label IS NULL), 0)::int AS unscored
            FROM (SELECT r.*, 1 AS sign FROM new_rows r UNION ALL SELECT r.*, -1 AS sign FROM old_rows r) src
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
        )
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
            unscored = t.unscored + excluded.unscored;
        WITH days AS MATERIALIZED (
            SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind, theme,
                sum(sign)::int AS responses,
                coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = -1), 0)::int AS low,
                coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = 1), 0)::int AS high,
                sum(sign * score)::bigint AS score_sum,
                coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0)::int AS sentiment_n,
                coalesce(sum(sign * sentiment_polarity::double precision), 0) AS sentiment_sum,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0)::int AS negative,
                coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)::int AS positive
            FROM (SELECT r.*, 1 AS sign FROM new_rows r UNION ALL SELECT r.*, -1 AS sign FROM old_rows r) src, unnest(src.themes) AS theme
            GROUP BY 1, 2, 3, 4
        ), daily AS (
            INSERT INTO touchpoint_daily_themes AS t (
                touchpoint_id, day, kind, theme, responses, low, high, score_sum, sentiment_n,
                sentiment_sum, negative, positive)
            SELECT * FROM days
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
        )
        INSERT INTO touchpoint_monthly_themes AS t (
            touchpoint_id, month, kind, theme, responses, low, high, score_sum, sentiment_n,
            sentiment_sum, negative, positive)
        SELECT touchpoint_id, date_trunc('month', day::timestamp)::date, kind, theme,
            sum(responses), sum(low), sum(high), sum(score_sum), sum(sentiment_n),
            sum(sentiment_sum), sum(negative), sum(positive)
        FROM days
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
            positive = t.positive + excluded.positive;
        DELETE FROM response_theme_comments c
        USING (SELECT DISTINCT o.touchpoint_id, theme, score_band(o.kind, o.score) AS band,
                   o.occurred_at, o.id
               FROM old_rows o, unnest(o.themes) AS theme
               WHERE o.comment IS NOT NULL AND o.comment <> ''
                 AND score_band(o.kind, o.score) <> 0) gone
        WHERE c.touchpoint_id = gone.touchpoint_id AND c.theme = gone.theme
          AND c.band = gone.band AND c.occurred_at = gone.occurred_at AND c.id = gone.id;
        INSERT INTO response_theme_comments (
            touchpoint_id, theme, band, occurred_at, id, wording, sentiment_polarity)
        SELECT DISTINCT ON (n.touchpoint_id, theme, n.id) n.touchpoint_id, theme, n.band,
            n.occurred_at, n.id, n.wording, n.sentiment_polarity
        FROM (SELECT touchpoint_id, id, themes, occurred_at, sentiment_polarity,
                  score_band(kind, score) AS band, decode(md5(lower(btrim(comment))), 'hex') AS wording
              FROM new_rows
              WHERE comment IS NOT NULL AND comment <> '' AND score_band(kind, score) <> 0
                AND cardinality(themes) > 0
              OFFSET 0) n, unnest(n.themes) AS theme
        ORDER BY n.touchpoint_id, theme, n.id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER responses_rollups_insert AFTER INSERT ON responses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION responses_rollups();
CREATE TRIGGER responses_rollups_update AFTER UPDATE ON responses
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION responses_rollups();
CREATE TRIGGER responses_rollups_delete AFTER DELETE ON responses
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION responses_rollups();
