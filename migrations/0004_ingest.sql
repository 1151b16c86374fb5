-- Ingest: the rollup triggers of 0002 as static SQL, one branch per operation.
--
-- 0002 builds each statement with EXECUTE format(...), so PostgreSQL parses and plans it
-- again every time a trigger fires: about 1.4 ms per statement, paid by every group commit
-- and every survey form answer, longer than the insert itself. Static statements are
-- planned once per session and reused. The statements are those of 0002, word for word,
-- with the transition-table source spelled out per operation; the results are the same.
-- Each also orders its rows by the rollup key, so two transactions that touch the same
-- rollup rows lock them in the same order and cannot deadlock on them.

CREATE OR REPLACE FUNCTION responses_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO touchpoint_daily AS t (
            touchpoint_id, day, kind, responses,
            s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
            comments, sentiment_n, sentiment_sum, sentiment_sq,
            negative, neutral, positive, mixed, unscored)
        SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date, kind, sum(sign),
            coalesce(sum(sign) FILTER (WHERE score = 0), 0), coalesce(sum(sign) FILTER (WHERE score = 1), 0),
            coalesce(sum(sign) FILTER (WHERE score = 2), 0), coalesce(sum(sign) FILTER (WHERE score = 3), 0),
            coalesce(sum(sign) FILTER (WHERE score = 4), 0), coalesce(sum(sign) FILTER (WHERE score = 5), 0),
            coalesce(sum(sign) FILTER (WHERE score = 6), 0), coalesce(sum(sign) FILTER (WHERE score = 7), 0),
            coalesce(sum(sign) FILTER (WHERE score = 8), 0), coalesce(sum(sign) FILTER (WHERE score = 9), 0),
            coalesce(sum(sign) FILTER (WHERE score = 10), 0),
            coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0),
            coalesce(sum(sign * sentiment_polarity::double precision), 0),
            coalesce(sum(sign * (sentiment_polarity::double precision) ^ 2), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'neutral'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'mixed'), 0),
            coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''
                              AND sentiment_label IS NULL), 0)
        FROM (SELECT r.*, 1 AS sign FROM new_rows r) src
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT (touchpoint_id, day, kind) DO UPDATE SET
            responses = t.responses + excluded.responses,
            s0 = t.s0 + excluded.s0, s1 = t.s1 + excluded.s1,
            s2 = t.s2 + excluded.s2, s3 = t.s3 + excluded.s3,
            s4 = t.s4 + excluded.s4, s5 = t.s5 + excluded.s5,
            s6 = t.s6 + excluded.s6, s7 = t.s7 + excluded.s7,
            s8 = t.s8 + excluded.s8, s9 = t.s9 + excluded.s9,
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
        INSERT INTO touchpoint_daily_themes AS t (
            touchpoint_id, day, kind, theme, responses, low, high, score_sum,
            sentiment_n, sentiment_sum, negative, positive)
        SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date, kind, theme, sum(sign),
            coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = -1), 0),
            coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = 1), 0),
            sum(sign * score),
            coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0),
            coalesce(sum(sign * sentiment_polarity::double precision), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)
        FROM (SELECT r.*, 1 AS sign FROM new_rows r) src, unnest(src.themes) AS theme
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (touchpoint_id, day, kind, theme) DO UPDATE SET
            responses = t.responses + excluded.responses,
            low = t.low + excluded.low,
            high = t.high + excluded.high,
            score_sum = t.score_sum + excluded.score_sum,
            sentiment_n = t.sentiment_n + excluded.sentiment_n,
            sentiment_sum = t.sentiment_sum + excluded.sentiment_sum,
            negative = t.negative + excluded.negative,
            positive = t.positive + excluded.positive;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO touchpoint_daily AS t (
            touchpoint_id, day, kind, responses,
            s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
            comments, sentiment_n, sentiment_sum, sentiment_sq,
            negative, neutral, positive, mixed, unscored)
        SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date, kind, sum(sign),
            coalesce(sum(sign) FILTER (WHERE score = 0), 0), coalesce(sum(sign) FILTER (WHERE score = 1), 0),
            coalesce(sum(sign) FILTER (WHERE score = 2), 0), coalesce(sum(sign) FILTER (WHERE score = 3), 0),
            coalesce(sum(sign) FILTER (WHERE score = 4), 0), coalesce(sum(sign) FILTER (WHERE score = 5), 0),
            coalesce(sum(sign) FILTER (WHERE score = 6), 0), coalesce(sum(sign) FILTER (WHERE score = 7), 0),
            coalesce(sum(sign) FILTER (WHERE score = 8), 0), coalesce(sum(sign) FILTER (WHERE score = 9), 0),
            coalesce(sum(sign) FILTER (WHERE score = 10), 0),
            coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0),
            coalesce(sum(sign * sentiment_polarity::double precision), 0),
            coalesce(sum(sign * (sentiment_polarity::double precision) ^ 2), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'neutral'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'mixed'), 0),
            coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''
                              AND sentiment_label IS NULL), 0)
        FROM (SELECT r.*, -1 AS sign FROM old_rows r) src
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT (touchpoint_id, day, kind) DO UPDATE SET
            responses = t.responses + excluded.responses,
            s0 = t.s0 + excluded.s0, s1 = t.s1 + excluded.s1,
            s2 = t.s2 + excluded.s2, s3 = t.s3 + excluded.s3,
            s4 = t.s4 + excluded.s4, s5 = t.s5 + excluded.s5,
            s6 = t.s6 + excluded.s6, s7 = t.s7 + excluded.s7,
            s8 = t.s8 + excluded.s8, s9 = t.s9 + excluded.s9,
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
        INSERT INTO touchpoint_daily_themes AS t (
            touchpoint_id, day, kind, theme, responses, low, high, score_sum,
            sentiment_n, sentiment_sum, negative, positive)
        SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date, kind, theme, sum(sign),
            coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = -1), 0),
            coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = 1), 0),
            sum(sign * score),
            coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0),
            coalesce(sum(sign * sentiment_polarity::double precision), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)
        FROM (SELECT r.*, -1 AS sign FROM old_rows r) src, unnest(src.themes) AS theme
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (touchpoint_id, day, kind, theme) DO UPDATE SET
            responses = t.responses + excluded.responses,
            low = t.low + excluded.low,
            high = t.high + excluded.high,
            score_sum = t.score_sum + excluded.score_sum,
            sentiment_n = t.sentiment_n + excluded.sentiment_n,
            sentiment_sum = t.sentiment_sum + excluded.sentiment_sum,
            negative = t.negative + excluded.negative,
            positive = t.positive + excluded.positive;
    ELSE  -- UPDATE
        INSERT INTO touchpoint_daily AS t (
            touchpoint_id, day, kind, responses,
            s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10,
            comments, sentiment_n, sentiment_sum, sentiment_sq,
            negative, neutral, positive, mixed, unscored)
        SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date, kind, sum(sign),
            coalesce(sum(sign) FILTER (WHERE score = 0), 0), coalesce(sum(sign) FILTER (WHERE score = 1), 0),
            coalesce(sum(sign) FILTER (WHERE score = 2), 0), coalesce(sum(sign) FILTER (WHERE score = 3), 0),
            coalesce(sum(sign) FILTER (WHERE score = 4), 0), coalesce(sum(sign) FILTER (WHERE score = 5), 0),
            coalesce(sum(sign) FILTER (WHERE score = 6), 0), coalesce(sum(sign) FILTER (WHERE score = 7), 0),
            coalesce(sum(sign) FILTER (WHERE score = 8), 0), coalesce(sum(sign) FILTER (WHERE score = 9), 0),
            coalesce(sum(sign) FILTER (WHERE score = 10), 0),
            coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0),
            coalesce(sum(sign * sentiment_polarity::double precision), 0),
            coalesce(sum(sign * (sentiment_polarity::double precision) ^ 2), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'neutral'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'mixed'), 0),
            coalesce(sum(sign) FILTER (WHERE comment IS NOT NULL AND comment <> ''
                              AND sentiment_label IS NULL), 0)
        FROM (SELECT r.*, 1 AS sign FROM new_rows r UNION ALL SELECT r.*, -1 AS sign FROM old_rows r) src
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT (touchpoint_id, day, kind) DO UPDATE SET
            responses = t.responses + excluded.responses,
            s0 = t.s0 + excluded.s0, s1 = t.s1 + excluded.s1,
            s2 = t.s2 + excluded.s2, s3 = t.s3 + excluded.s3,
            s4 = t.s4 + excluded.s4, s5 = t.s5 + excluded.s5,
            s6 = t.s6 + excluded.s6, s7 = t.s7 + excluded.s7,
            s8 = t.s8 + excluded.s8, s9 = t.s9 + excluded.s9,
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
        INSERT INTO touchpoint_daily_themes AS t (
            touchpoint_id, day, kind, theme, responses, low, high, score_sum,
            sentiment_n, sentiment_sum, negative, positive)
        SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date, kind, theme, sum(sign),
            coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = -1), 0),
            coalesce(sum(sign) FILTER (WHERE score_band(kind, score) = 1), 0),
            sum(sign * score),
            coalesce(sum(sign) FILTER (WHERE sentiment_polarity IS NOT NULL), 0),
            coalesce(sum(sign * sentiment_polarity::double precision), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'negative'), 0),
            coalesce(sum(sign) FILTER (WHERE sentiment_label = 'positive'), 0)
        FROM (SELECT r.*, 1 AS sign FROM new_rows r UNION ALL SELECT r.*, -1 AS sign FROM old_rows r) src, unnest(src.themes) AS theme
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (touchpoint_id, day, kind, theme) DO UPDATE SET
            responses = t.responses + excluded.responses,
            low = t.low + excluded.low,
            high = t.high + excluded.high,
            score_sum = t.score_sum + excluded.score_sum,
            sentiment_n = t.sentiment_n + excluded.sentiment_n,
            sentiment_sum = t.sentiment_sum + excluded.sentiment_sum,
            negative = t.negative + excluded.negative,
            positive = t.positive + excluded.positive;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION invitations_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO touchpoint_daily_funnel AS t (
            touchpoint_id, day, invited, clicked, answered, scanner,
            skipped_inactive, skipped_sampled, skipped_here, skipped_anywhere)
        SELECT touchpoint_id, (created_at AT TIME ZONE 'UTC')::date,
            coalesce(sum(sign) FILTER (WHERE decision = 'sent'), 0),
            coalesce(sum(sign) FILTER (WHERE first_clicked_at IS NOT NULL), 0),
            coalesce(sum(sign) FILTER (WHERE answered_at IS NOT NULL), 0),
            coalesce(sum(sign) FILTER (WHERE suspected_scanner), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'touchpoint_inactive'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'sampled_out'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'recently_asked_here'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'recently_asked_anywhere'), 0)
        FROM (SELECT r.*, 1 AS sign FROM new_rows r) src
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT (touchpoint_id, day) DO UPDATE SET
            invited = t.invited + excluded.invited,
            clicked = t.clicked + excluded.clicked,
            answered = t.answered + excluded.answered,
            scanner = t.scanner + excluded.scanner,
            skipped_inactive = t.skipped_inactive + excluded.skipped_inactive,
            skipped_sampled = t.skipped_sampled + excluded.skipped_sampled,
            skipped_here = t.skipped_here + excluded.skipped_here,
            skipped_anywhere = t.skipped_anywhere + excluded.skipped_anywhere;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO touchpoint_daily_funnel AS t (
            touchpoint_id, day, invited, clicked, answered, scanner,
            skipped_inactive, skipped_sampled, skipped_here, skipped_anywhere)
        SELECT touchpoint_id, (created_at AT TIME ZONE 'UTC')::date,
            coalesce(sum(sign) FILTER (WHERE decision = 'sent'), 0),
            coalesce(sum(sign) FILTER (WHERE first_clicked_at IS NOT NULL), 0),
            coalesce(sum(sign) FILTER (WHERE answered_at IS NOT NULL), 0),
            coalesce(sum(sign) FILTER (WHERE suspected_scanner), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'touchpoint_inactive'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'sampled_out'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'recently_asked_here'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'recently_asked_anywhere'), 0)
        FROM (SELECT r.*, -1 AS sign FROM old_rows r) src
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT (touchpoint_id, day) DO UPDATE SET
            invited = t.invited + excluded.invited,
            clicked = t.clicked + excluded.clicked,
            answered = t.answered + excluded.answered,
            scanner = t.scanner + excluded.scanner,
            skipped_inactive = t.skipped_inactive + excluded.skipped_inactive,
            skipped_sampled = t.skipped_sampled + excluded.skipped_sampled,
            skipped_here = t.skipped_here + excluded.skipped_here,
            skipped_anywhere = t.skipped_anywhere + excluded.skipped_anywhere;
    ELSE  -- UPDATE
        INSERT INTO touchpoint_daily_funnel AS t (
            touchpoint_id, day, invited, clicked, answered, scanner,
            skipped_inactive, skipped_sampled, skipped_here, skipped_anywhere)
        SELECT touchpoint_id, (created_at AT TIME ZONE 'UTC')::date,
            coalesce(sum(sign) FILTER (WHERE decision = 'sent'), 0),
            coalesce(sum(sign) FILTER (WHERE first_clicked_at IS NOT NULL), 0),
            coalesce(sum(sign) FILTER (WHERE answered_at IS NOT NULL), 0),
            coalesce(sum(sign) FILTER (WHERE suspected_scanner), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'touchpoint_inactive'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'sampled_out'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'recently_asked_here'), 0),
            coalesce(sum(sign) FILTER (WHERE decision = 'recently_asked_anywhere'), 0)
        FROM (SELECT r.*, 1 AS sign FROM new_rows r UNION ALL SELECT r.*, -1 AS sign FROM old_rows r) src
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT (touchpoint_id, day) DO UPDATE SET
            invited = t.invited + excluded.invited,
            clicked = t.clicked + excluded.clicked,
            answered = t.answered + excluded.answered,
            scanner = t.scanner + excluded.scanner,
            skipped_inactive = t.skipped_inactive + excluded.skipped_inactive,
            skipped_sampled = t.skipped_sampled + excluded.skipped_sampled,
            skipped_here = t.skipped_here + excluded.skipped_here,
            skipped_anywhere = t.skipped_anywhere + excluded.skipped_anywhere;
    END IF;
    RETURN NULL;
END
$$;
