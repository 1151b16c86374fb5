-- The catch-up's question at every start, "did an older analyser read any answer?", and its
-- count, read this index (a few pages; a million answers of one version are a handful of
-- posting lists) instead of every response (docs/reports.md, catch-up). Built in the
-- migration's transaction: writes to responses wait for it (about a second per million rows).
CREATE INDEX responses_analyzer_version ON responses (analyzer_version);
