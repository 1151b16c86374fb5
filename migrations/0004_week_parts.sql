-- Week parts of the daily rollup: a year-long report reads about 65 rows per touchpoint and
-- kind instead of 365.
--
-- A part is the days of one ISO week inside one calendar month, named by its first day: every
-- week and every month is a union of parts, so a report buckets parts as it would days. Reports
-- take whole parts from here and the few days at a period's ends from touchpoint_daily.
-- Statement-level triggers on touchpoint_daily keep the parts in the same transaction as the
-- write that changed the days (inserts, edits, erasures alike): whatever changes a day changes
-- its part by the same amount.

-- No response is written while the rollup is created, backfilled and hooked up.
LOCK TABLE responses IN SHARE ROW EXCLUSIVE MODE;
LOCK TABLE touchpoint_daily IN SHARE ROW EXCLUSIVE MODE;

-- The first day of a day's part: its ISO week's Monday (1900-01-01 was one) or its month's
-- first day, whichever is later. Plain date arithmetic: extract() is numeric and slower.
CREATE FUNCTION week_part(day date) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN greatest(day - (day - date '1900-01-01') % 7, day - (date_part('day', day)::int - 1));

-- Per touchpoint, part and kind; columns as touchpoint_daily.
CREATE TABLE touchpoint_week_parts (
    touchpoint_id bigint NOT NULL,
    part date NOT NULL CHECK (week_part(part) = part),
    kind text NOT NULL,
    responses integer NOT NULL DEFAULT 0,
    s0 integer NOT NULL DEFAULT 0,
    s1 integer NOT NULL DEFAULT 0,
    s2 integer NOT NULL DEFAULT 0,
    s3 integer NOT NULL DEFAULT 0,
    s4 integer NOT NULL DEFAULT 0,
    s5 integer NOT NULL DEFAULT 0,
    s6 integer NOT NULL DEFAULT 0,
    s7 integer NOT NULL DEFAULT 0,
    s8 integer NOT NULL DEFAULT 0,
    s9 integer NOT NULL DEFAULT 0,
    s10 integer NOT NULL DEFAULT 0,
    comments integer NOT NULL DEFAULT 0,
    sentiment_n integer NOT NULL DEFAULT 0,
    sentiment_sum double precision NOT NULL DEFAULT 0,
    sentiment_sq double precision NOT NULL DEFAULT 0,
    negative integer NOT NULL DEFAULT 0,
    neutral integer NOT NULL DEFAULT 0,
    positive integer NOT NULL DEFAULT 0,
    mixed integer NOT NULL DEFAULT 0,
    unscored integer NOT NULL DEFAULT 0,
    PRIMARY KEY (touchpoint_id, part, kind)
);

INSERT INTO touchpoint_week_parts (
    touchpoint_id, part, kind, responses, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
    comments, sentiment_n, sentiment_sum, sentiment_sq, negative, neutral, positive, mixed,
    unscored)
SELECT touchpoint_id, week_part(day), kind, sum(responses), sum(s0), sum(s1), sum(s2), sum(s3),
    sum(s4), sum(s5), sum(s6), sum(s7), sum(s8), sum(s9), sum(s10), sum(comments),
    sum(sentiment_n), sum(sentiment_sum), sum(sentiment_sq), sum(negative), sum(neutral),
    sum(positive), sum(mixed), sum(unscored)
FROM touchpoint_daily
GROUP BY 1, 2, 3;

-- The days' change is new rows minus old rows: an INSERT ... ON CONFLICT DO UPDATE into
-- touchpoint_daily fires the insert trigger with the rows it inserted and the update trigger
-- with the rows it updated. Static SQL, one branch per operation (a transition table exists
-- only for its own operations), so each statement is planned once per session; parts go in
-- key order, so concurrent writers lock them in the same order.
CREATE FUNCTION touchpoint_daily_week_parts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO touchpoint_week_parts AS t (
            touchpoint_id, part, kind, responses, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
            comments, sentiment_n, sentiment_sum, sentiment_sq, negative, neutral, positive,
            mixed, unscored)
        SELECT touchpoint_id, week_part(day), kind,
            sum(sign * responses), sum(sign * s0), sum(sign * s1), sum(sign * s2),
            sum(sign * s3), sum(sign * s4), sum(sign * s5), sum(sign * s6),
            sum(sign * s7), sum(sign * s8), sum(sign * s9), sum(sign * s10),
            sum(sign * comments), sum(sign * sentiment_n), sum(sign * sentiment_sum), sum(sign * sentiment_sq),
            sum(sign * negative), sum(sign * neutral), sum(sign * positive), sum(sign * mixed),
            sum(sign * unscored)
        FROM (SELECT d.*, 1 AS sign FROM new_rows d) src
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
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO touchpoint_week_parts AS t (
            touchpoint_id, part, kind, responses, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
            comments, sentiment_n, sentiment_sum, sentiment_sq, negative, neutral, positive,
            mixed, unscored)
        SELECT touchpoint_id, week_part(day), kind,
            sum(sign * responses), sum(sign * s0), sum(sign * s1), sum(sign * s2),
            sum(sign * s3), sum(sign * s4), sum(sign * s5), sum(sign * s6),
            sum(sign * s7), sum(sign * s8), sum(sign * s9), sum(sign * s10),
            sum(sign * comments), sum(sign * sentiment_n), sum(sign * sentiment_sum), sum(sign * sentiment_sq),
            sum(sign * negative), sum(sign * neutral), sum(sign * positive), sum(sign * mixed),
            sum(sign * unscored)
        FROM (SELECT d.*, -1 AS sign FROM old_rows d) src
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
    ELSE
        INSERT INTO touchpoint_week_parts AS t (
            touchpoint_id, part, kind, responses, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
            comments, sentiment_n, sentiment_sum, sentiment_sq, negative, neutral, positive,
            mixed, unscored)
        SELECT touchpoint_id, week_part(day), kind,
            sum(sign * responses), sum(sign * s0), sum(sign * s1), sum(sign * s2),
            sum(sign * s3), sum(sign * s4), sum(sign * s5), sum(sign * s6),
            sum(sign * s7), sum(sign * s8), sum(sign * s9), sum(sign * s10),
            sum(sign * comments), sum(sign * sentiment_n), sum(sign * sentiment_sum), sum(sign * sentiment_sq),
            sum(sign * negative), sum(sign * neutral), sum(sign * positive), sum(sign * mixed),
            sum(sign * unscored)
        FROM (SELECT d.*, 1 AS sign FROM new_rows d UNION ALL SELECT d.*, -1 AS sign FROM old_rows d) src
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
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER touchpoint_daily_week_parts_insert AFTER INSERT ON touchpoint_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION touchpoint_daily_week_parts();
CREATE TRIGGER touchpoint_daily_week_parts_update AFTER UPDATE ON touchpoint_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION touchpoint_daily_week_parts();
CREATE TRIGGER touchpoint_daily_week_parts_delete AFTER DELETE ON touchpoint_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION touchpoint_daily_week_parts();
