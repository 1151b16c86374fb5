-- Foundation: owners, journeys with ordered stages, touchpoints, API keys.
-- Small catalogue tables: in a Citus cluster these become reference tables.

CREATE TABLE owners (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email text CHECK (email IS NULL OR length(email) <= 320),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE journeys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journey_id bigint NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position integer NOT NULL CHECK (position >= 0),
    -- Deferred so that a reorder can swap positions inside one transaction.
    CONSTRAINT stages_position_unique UNIQUE (journey_id, position) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT stages_name_unique UNIQUE (journey_id, name)
);

CREATE TABLE touchpoints (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    stage_id bigint NOT NULL REFERENCES stages (id) ON DELETE RESTRICT,
    channel text NOT NULL
        CHECK (channel IN ('email', 'app', 'web', 'phone', 'chat', 'store', 'other')),
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE RESTRICT,
    kind text NOT NULL CHECK (kind IN ('nps', 'csat', 'ces')),
    -- Wording per locale; a locale missing here falls back to the kind's default.
    questions jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(questions) = 'object'),
    target double precision,
    sample_rate double precision NOT NULL DEFAULT 1 CHECK (sample_rate BETWEEN 0 AND 1),
    recontact_days integer NOT NULL DEFAULT 30 CHECK (recontact_days BETWEEN 0 AND 3650),
    expiry_days integer NOT NULL DEFAULT 14 CHECK (expiry_days BETWEEN 1 AND 365),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX touchpoints_stage ON touchpoints (stage_id);
CREATE INDEX touchpoints_owner ON touchpoints (owner_id);

CREATE TABLE api_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    role text NOT NULL CHECK (role IN ('admin', 'owner', 'ingest')),
    owner_id bigint REFERENCES owners (id) ON DELETE CASCADE,
    prefix text NOT NULL,
    -- SHA-256 of the whole key: keys are 256-bit random, so no slow hash is needed.
    key_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK ((role = 'owner') = (owner_id IS NOT NULL))
);
