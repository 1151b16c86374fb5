-- A person who follows the link after a mail scanner counts as a person. Until now the first
-- scanner-like pair of clicks (two scores within 10 seconds) marked the invitation for good,
-- so a customer who opened the survey later and left without answering, or whose own click
-- came before a scanner re-checked every link, was left out of the funnel's people. The mark
-- now means what the funnel takes it for: clicked, every click within 10 seconds of a
-- scanner's burst, and not answered (docs/reports.md, Funnel).

-- Whether a person clicked the invitation, as far as clicks tell: a click more than 10 seconds
-- away from every burst (two clicks with different scores less than 10 seconds apart). The
-- invitation's clicks are few (index invitation_clicks_invitation).
CREATE FUNCTION clicked_by_a_person(tp bigint, inv uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    WITH c AS (
        SELECT score, clicked_at FROM invitation_clicks
        WHERE invitation_id = inv AND touchpoint_id = tp
    ), burst AS (
        SELECT a.clicked_at FROM c a
        WHERE a.score IS NOT NULL AND EXISTS (
            SELECT 1 FROM c b
            WHERE b.score IS NOT NULL AND b.score <> a.score
              AND b.clicked_at > a.clicked_at - interval '10 seconds'
              AND b.clicked_at < a.clicked_at + interval '10 seconds')
    )
    SELECT EXISTS (
        SELECT 1 FROM c WHERE NOT EXISTS (
            SELECT 1 FROM burst
            WHERE burst.clicked_at > c.clicked_at - interval '10 seconds'
              AND burst.clicked_at < c.clicked_at + interval '10 seconds'))
$$;

-- Log a click and mark the invitation again. The invitation's row is locked first, so clicks
-- of one invitation are marked one at a time, each seeing the ones before it (a scanner
-- fetching two scores at once was otherwise counted as a person: neither saw the other). An
-- invitation gone (its customer erased) fails on the click's foreign key.
CREATE FUNCTION record_click(tp bigint, inv uuid, clicked_score smallint, agent text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM invitations WHERE touchpoint_id = tp AND id = inv FOR NO KEY UPDATE;
    INSERT INTO invitation_clicks (touchpoint_id, invitation_id, score, user_agent)
    VALUES (tp, inv, clicked_score, agent);
    -- An answered invitation is never suspected: a person answered it.
    UPDATE invitations SET
        first_clicked_at = coalesce(first_clicked_at, now()),
        suspected_scanner = answered_at IS NULL AND NOT clicked_by_a_person(tp, inv)
    WHERE touchpoint_id = tp AND id = inv;
END
$$;

-- Invitations marked under the old rule whose clicks show a person; the funnel rollup's
-- UPDATE trigger moves them out of the scanner count in this transaction.
UPDATE invitations SET suspected_scanner = false
WHERE suspected_scanner AND clicked_by_a_person(touchpoint_id, id);
