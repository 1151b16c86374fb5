-- An answered invitation was clicked by a person: since this release an answer clears the
-- suspected-scanner flag (upsert-link-responses), so that the funnel's scanner count means
-- "clicked only by a mail scanner" and the click rate counts people. Invitations answered
-- before carry the old flag; clear it once. The funnel rollup's UPDATE trigger moves them
-- out of the scanner count in the same transaction.
UPDATE invitations SET suspected_scanner = false
WHERE suspected_scanner AND answered_at IS NOT NULL;
