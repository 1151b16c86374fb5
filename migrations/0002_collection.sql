-- Collection: invitations, clicks, responses, idempotency keys, and the daily rollups
-- that keep every report O(touchpoints x days).
--
-- Large tables carry touchpoint_id in every primary and unique key: it is their Citus
-- distribution column (see docs/scaling.md). Ids are UUIDv7 made by the service.

CREATE TABLE invitations (
    touchpoint_id bigint NOT NULL REFERENCES touchpoints (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    customer_ref text NOT NULL CHECK (length(customer_ref) BETWEEN 1 AND 200),
    locale text NOT NULL DEFAULT 'en',
    channel text NOT NULL,
    context jsonb NOT NULL DEFAULT '{}'::jsonb,
    event_id text CHECK (event_id IS NULL OR length(event_id) BETWEEN 1 AND 200),
    -- 'sent', or the reason the customer was not asked.
    decision text NOT NULL CHECK (decision IN (
        'sent', 'touchpoint_inactive', 'sampled_out', 'recently_asked_here', 'recently_asked_anywhere')),
    -- The link token is never stored: only its hash, and the nonce it was derived from.
    token_hash bytea,
    token_nonce bytea,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    first_clicked_at timestamptz,
    answered_at timestamptz,
    suspected_scanner boolean NOT NULL DEFAULT false,
    PRIMARY KEY (touchpoint_id, id),
    UNIQUE (touchpoint_id, event_id),
    CHECK ((decision = 'sent') = (token_hash IS NOT NULL))
);
CREATE UNIQUE INDEX invitations_id ON invitations (id);
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash) WHERE token_hash IS NOT NULL;
-- The contact-frequency rules look back over a customer's recent invitations.
CREATE INDEX invitations_customer_recent ON invitations (customer_ref, created_at DESC)
    WHERE decision = 'sent';
CREATE INDEX invitations_touchpoint_created ON invitations (touchpoint_id, created_at DESC);

CREATE TABLE invitation_clicks (
    touchpoint_id bigint NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    invitation_id uuid NOT NULL,
    score smallint,
    user_agent text NOT NULL DEFAULT '',
    clicked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (touchpoint_id, id),
    FOREIGN KEY (touchpoint_id, invitation_id)
        REFERENCES invitations (touchpoint_id, id) ON DELETE CASCADE
);
CREATE INDEX invitation_clicks_invitation ON invitation_clicks (invitation_id, clicked_at);

CREATE TABLE responses (
    touchpoint_id bigint NOT NULL REFERENCES touchpoints (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    invitation_id uuid,
    -- Where the touchpoint stood when the customer answered: history is never rewritten.
    journey_id bigint NOT NULL,
    stage_id bigint NOT NULL,
    owner_id bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('nps', 'csat', 'ces')),
    scale_min smallint NOT NULL,
    scale_max smallint NOT NULL,
    score smallint NOT NULL CHECK (score BETWEEN scale_min AND scale_max),
    comment text CHECK (comment IS NULL OR length(comment) <= 2000),
    customer_ref text,
    locale text NOT NULL DEFAULT 'en',
    channel text NOT NULL,
    source text NOT NULL CHECK (source IN ('link', 'api', 'widget')),
    context jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Sentiment of the comment; NULL polarity with a comment means "unscored".
    sentiment_polarity real,
    sentiment_subjectivity real,
    sentiment_label text CHECK (sentiment_label IN ('negative', 'neutral', 'positive', 'mixed')),
    language text,
    themes text[] NOT NULL DEFAULT '{}',
    analyzer_version integer NOT NULL DEFAULT 0,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    edits integer NOT NULL DEFAULT 0,
    PRIMARY KEY (touchpoint_id, id),
    -- One invitation has exactly one response.
    UNIQUE (touchpoint_id, invitation_id)
);
CREATE UNIQUE INDEX responses_id ON responses (id);
CREATE INDEX responses_touchpoint_time ON responses (touchpoint_id, occurred_at DESC, id DESC);
CREATE INDEX responses_customer ON responses (customer_ref) WHERE customer_ref IS NOT NULL;
CREATE INDEX responses_themes ON responses USING gin (themes);

CREATE TABLE idempotency_keys (
    api_key_id bigint NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    status integer NOT NULL,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The band of a score on its kind's scale: -1 low (detractor, dissatisfied, difficult),
-- 0 middle, 1 high (promoter, satisfied, easy). Mirrors surveys/kinds.py.
CREATE FUNCTION score_band(kind text, score integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'nps' THEN CASE WHEN score >= 9 THEN 1 WHEN score <= 6 THEN -1 ELSE 0 END
        WHEN 'csat' THEN CASE WHEN score >= 4 THEN 1 WHEN score <= 2 THEN -1 ELSE 0 END
        WHEN 'ces' THEN CASE WHEN score >= 5 THEN 1 WHEN score <= 3 THEN -1 ELSE 0 END
    END
$$;

-- Per touchpoint, UTC day and kind: a histogram of scores (s0..s10 is the count of that
-- score) and the sentiment of comments.
CREATE TABLE touchpoint_daily (
    touchpoint_id bigint NOT NULL,
    day date NOT NULL,
    kind text NOT NULL,
    responses integer NOT NULL DEFAULT 0,
    s0 integer NOT NULL DEFAULT 0, s1 integer NOT NULL DEFAULT 0,
    s2 integer NOT NULL DEFAULT 0, s3 integer NOT NULL DEFAULT 0,
    s4 integer NOT NULL DEFAULT 0, s5 integer NOT NULL DEFAULT 0,
    s6 integer NOT NULL DEFAULT 0, s7 integer NOT NULL DEFAULT 0,
    s8 integer NOT NULL DEFAULT 0, s9 integer NOT NULL DEFAULT 0,
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
    PRIMARY KEY (touchpoint_id, day, kind)
);

-- Per touchpoint, day, kind and theme: what a theme does to the score.
CREATE TABLE touchpoint_daily_themes (
    touchpoint_id bigint NOT NULL,
    day date NOT NULL,
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
    PRIMARY KEY (touchpoint_id, day, kind, theme)
);

-- Per touchpoint and day of invitation: the funnel and why customers were not asked.
CREATE TABLE touchpoint_daily_funnel (
    touchpoint_id bigint NOT NULL,
    day date NOT NULL,
    invited integer NOT NULL DEFAULT 0,
    clicked integer NOT NULL DEFAULT 0,
    answered integer NOT NULL DEFAULT 0,
    scanner integer NOT NULL DEFAULT 0,
    skipped_inactive integer NOT NULL DEFAULT 0,
    skipped_sampled integer NOT NULL DEFAULT 0,
    skipped_here integer NOT NULL DEFAULT 0,
    skipped_anywhere integer NOT NULL DEFAULT 0,
    PRIMARY KEY (touchpoint_id, day)
);

-- Statement-level triggers read the transition tables once per statement, so a batch
-- insert touches each rollup row once, and every insert, edit and erasure keeps the
-- rollups exact in its own transaction.
-- The statements are static, one branch per operation, so PostgreSQL plans them once per
-- session (dynamic SQL was re-planned at every firing, longer than the insert itself), and
-- each orders its rows by the rollup key, so two transactions touching the same rollup rows
-- lock them in the same order and cannot deadlock.
CREATE FUNCTION responses_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER responses_rollup_insert AFTER INSERT ON responses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION responses_rollup();
CREATE TRIGGER responses_rollup_update AFTER UPDATE ON responses
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION responses_rollup();
CREATE TRIGGER responses_rollup_delete AFTER DELETE ON responses
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION responses_rollup();

CREATE FUNCTION invitations_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER invitations_rollup_insert AFTER INSERT ON invitations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invitations_rollup();
CREATE TRIGGER invitations_rollup_update AFTER UPDATE ON invitations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invitations_rollup();
CREATE TRIGGER invitations_rollup_delete AFTER DELETE ON invitations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION invitations_rollup();
