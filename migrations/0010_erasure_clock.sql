-- Erasure on one clock. Migration 0008 compared an answer's received time, read from the clock
-- of the instance that received it, with the tombstone's, read from the database's: an instance
-- clock running ahead kept answers queued before an erasure, one running behind refused answers
-- sent after the erasure. The writer now also sends `shift`, how far the database's clock is
-- ahead of its own (measured, and never more than it is: docs/collection.md, § 6), so each
-- received time is compared on the database's clock.
--
-- The versions without `shift` stay for instances still running the previous release during a
-- rolling deploy; nothing in this release calls them.

CREATE FUNCTION erased_answers(ids uuid[], customers text[], received timestamptz[], shift interval)
RETURNS SETOF uuid
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF erasures_to_heed() THEN
        RETURN QUERY
            SELECT a.id FROM unnest(ids, customers, received) AS a(id, customer, received_at)
            JOIN erasures e ON e.customer = sha256(convert_to(a.customer, 'UTF8'))
            WHERE a.received_at + shift <= e.erased_at;
    END IF;
END
$$;

CREATE FUNCTION erased_answers(answers json, shift interval) RETURNS SETOF uuid
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF erasures_to_heed() THEN
        RETURN QUERY
            SELECT a.id FROM json_to_recordset(answers) AS a(id uuid, customer_ref text, created_at timestamptz)
            JOIN erasures e ON e.customer = sha256(convert_to(a.customer_ref, 'UTF8'))
            WHERE a.created_at + shift <= e.erased_at;
    END IF;
END
$$;
