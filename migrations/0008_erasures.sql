-- Erasure against the group-commit writer. An answer waits a moment in a writer's queue (on any
-- instance) between being received and being written: one whose customer was erased in that
-- moment was written after the erasure, and survived it. An erasure now leaves a tombstone for
-- a day, and every statement the writer runs skips the answers received before a tombstone of
-- their customer (docs/collection.md, § 6).

CREATE TABLE erasures (
    -- sha256 of the customer reference as UTF-8: the erased reference is not kept readable.
    customer bytea PRIMARY KEY,
    -- The database's now() at the erasure; compared with each answer's received time.
    erased_at timestamptz NOT NULL
);

-- The writer's statements hold this lock shared until they commit; an erasure takes it
-- exclusively for an instant, after committing its tombstone and before deleting, and so waits
-- for every write that may have read the tombstones before it was there. Two int4 keys: apart
-- from the bigint keys of the customer locks and the migration lock.
CREATE FUNCTION erasures_to_heed() RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7463021, 8);
    RETURN EXISTS (SELECT 1 FROM erasures);
END
$$;

CREATE FUNCTION await_writes() RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7463021, 8);
END
$$;

-- The answers among these (id, customer, received time) whose customer was erased after they
-- were received. Volatile: each query here reads in a snapshot of its own, taken after the
-- lock, so it sees a tombstone committed while the calling statement waited for the lock
-- (the calling statement's own snapshot is older). No tombstone, no hashing: one look at an
-- empty table.
CREATE FUNCTION erased_answers(ids uuid[], customers text[], received timestamptz[]) RETURNS SETOF uuid
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF erasures_to_heed() THEN
        RETURN QUERY
            SELECT a.id FROM unnest(ids, customers, received) AS a(id, customer, received_at)
            JOIN erasures e ON e.customer = sha256(convert_to(a.customer, 'UTF8'))
            WHERE a.received_at <= e.erased_at;
    END IF;
END
$$;

-- The same for a group commit's rows as JSON (insert-batch): parsed only when there are tombstones.
CREATE FUNCTION erased_answers(answers json) RETURNS SETOF uuid
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF erasures_to_heed() THEN
        RETURN QUERY
            SELECT a.id FROM json_to_recordset(answers) AS a(id uuid, customer_ref text, created_at timestamptz)
            JOIN erasures e ON e.customer = sha256(convert_to(a.customer_ref, 'UTF8'))
            WHERE a.created_at <= e.erased_at;
    END IF;
END
$$;
