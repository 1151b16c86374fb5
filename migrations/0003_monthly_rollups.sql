-- Monthly theme rollup and an index of commented answers by theme.
--
-- The monthly theme rollup: a year-long report sums touchpoints x 12 months x themes rows
-- instead of touchpoints x 365 days x themes. Reports take whole months from here and the
-- partial months at a period's ends from touchpoint_daily_themes, so both stay exact:
-- statement-level triggers keep both tables in the same transaction as the write.

-- No response is written while the rollup is created, backfilled and hooked up.
LOCK TABLE responses IN SHARE ROW EXCLUSIVE MODE;

-- Per touchpoint, UTC month (its first day), kind and theme; columns as touchpoint_daily_themes.
CREATE TABLE touchpoint_monthly_themes (
    touchpoint_id bigint NOT NULL,
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    kind text NOT NULL,
    theme text NOT NULL,
    responses integer NOT NULL DEFAULT 0,
    low integer NOT NULL DEFAULT 0,
    high integer NOT NULL DEFAULT 0,
    score_sum bigint NOT NULL DEFAULT 0,
    sentiment_n integer NOT NULL DEFAULT 0,
    sentiment_sum double precision NOT NULL DEFAULT 0,
    negative integer NOT NULL DEFAULT 0,
    positive integer NOT NULL DEFAULT 0,
    PRIMARY KEY (touchpoint_id, month, kind, theme)
);

INSERT INTO touchpoint_monthly_themes (
    touchpoint_id, month, kind, theme, responses, low, high, score_sum,
    sentiment_n, sentiment_sum, negative, positive)
SELECT touchpoint_id, date_trunc('month', day)::date, kind, theme, sum(responses), sum(low),
    sum(high), sum(score_sum), sum(sentiment_n), sum(sentiment_sum), sum(negative), sum(positive)
FROM touchpoint_daily_themes
GROUP BY 1, 2, 3, 4;

-- The commented answers by touchpoint, theme and band (-1 low, 1 high; the middle band is
-- never quoted), with what choosing a verbatim needs: the md5 of the comment's wording as
-- the report compares it (lower(btrim(comment))) and the sentiment. A report reads at most
-- 200 entries per touchpoint and theme backwards from here, however many answers there are,
-- and fetches only the three responses it quotes. Kept by the same trigger: an edit or a
-- rescore removes the old entries and adds the new ones.
CREATE TABLE response_theme_comments (
    touchpoint_id bigint NOT NULL,
    theme text NOT NULL,
    band smallint NOT NULL CHECK (band IN (-1, 1)),
    occurred_at timestamptz NOT NULL,
    id uuid NOT NULL,
    wording bytea NOT NULL,
    sentiment_polarity real,
    PRIMARY KEY (touchpoint_id, theme, band, occurred_at, id) INCLUDE (wording, sentiment_polarity)
) WITH (autovacuum_vacuum_insert_scale_factor = 0.02);

INSERT INTO response_theme_comments (
    touchpoint_id, theme, band, occurred_at, id, wording, sentiment_polarity)
SELECT DISTINCT ON (r.touchpoint_id, theme, r.id) r.touchpoint_id, theme,
    score_band(r.kind, r.score), r.occurred_at, r.id, decode(md5(lower(btrim(r.comment))), 'hex'),
    r.sentiment_polarity
FROM responses r, unnest(r.themes) AS theme
WHERE r.comment IS NOT NULL AND r.comment <> '' AND score_band(r.kind, r.score) <> 0;

-- Their own statement-level triggers, beside the daily ones of 0002 (whose function later
-- migrations may replace): the transition tables are captured once per statement for all
-- triggers. Static SQL, one branch per operation, so each statement is planned once per
-- session; rows go in rollup-key order, so concurrent writers lock them in the same order.
CREATE FUNCTION responses_theme_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO touchpoint_monthly_themes AS t (
            touchpoint_id, month, kind, theme, responses, low, high, score_sum,
            sentiment_n, sentiment_sum, negative, positive)
        SELECT touchpoint_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, kind,
            theme, sum(sign),
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
        SELECT DISTINCT ON (n.touchpoint_id, theme, n.id) n.touchpoint_id, theme,
            score_band(n.kind, n.score), n.occurred_at, n.id,
            decode(md5(lower(btrim(n.comment))), 'hex'), n.sentiment_polarity
        FROM new_rows n, unnest(n.themes) AS theme
        WHERE n.comment IS NOT NULL AND n.comment <> '' AND score_band(n.kind, n.score) <> 0
        ORDER BY n.touchpoint_id, theme, n.id
        ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO touchpoint_monthly_themes AS t (
            touchpoint_id, month, kind, theme, responses, low, high, score_sum,
            sentiment_n, sentiment_sum, negative, positive)
        SELECT touchpoint_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, kind,
            theme, sum(sign),
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
    ELSE
        INSERT INTO touchpoint_monthly_themes AS t (
            touchpoint_id, month, kind, theme, responses, low, high, score_sum,
            sentiment_n, sentiment_sum, negative, positive)
        SELECT touchpoint_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, kind,
            theme, sum(sign),
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
        SELECT DISTINCT ON (n.touchpoint_id, theme, n.id) n.touchpoint_id, theme,
            score_band(n.kind, n.score), n.occurred_at, n.id,
            decode(md5(lower(btrim(n.comment))), 'hex'), n.sentiment_polarity
        FROM new_rows n, unnest(n.themes) AS theme
        WHERE n.comment IS NOT NULL AND n.comment <> '' AND score_band(n.kind, n.score) <> 0
        ORDER BY n.touchpoint_id, theme, n.id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER responses_theme_rollups_insert AFTER INSERT ON responses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION responses_theme_rollups();
CREATE TRIGGER responses_theme_rollups_update AFTER UPDATE ON responses
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION responses_theme_rollups();
CREATE TRIGGER responses_theme_rollups_delete AFTER DELETE ON responses
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION responses_theme_rollups();
