-- Owners -------------------------------------------------------------------

-- name: insert-owner^
INSERT INTO owners (name, email, name_key) VALUES ($1, $2, $3)
RETURNING id, name, email, created_at, updated_at;

-- name: get-owner^
SELECT id, name, email, created_at, updated_at FROM owners
WHERE id = $1 AND ($2::bigint IS NULL OR id = $2);

-- name: list-owners
SELECT id, name, email, created_at, updated_at FROM owners
WHERE id > $1 AND ($2::bigint IS NULL OR id = $2)
ORDER BY id LIMIT $3;

-- name: update-owner^
UPDATE owners SET name = $2, email = $3, name_key = $4, updated_at = now() WHERE id = $1
RETURNING id, name, email, created_at, updated_at;

-- name: lock-owner-names!
-- One owner created or renamed at a time, across instances, so two requests with the same
-- name cannot both find it free. Held until commit. Key family 74630219xx: 05 migrations,
-- 06 demo loader, 07 owner names, 08 journey names, 09 the rescore catch-up, 10 touchpoint names.
SELECT pg_advisory_xact_lock(7463021907);

-- name: owner-named
-- The owners whose name has this key (index owners_name_key, migration 0013): one, or a few
-- twins from before names were checked.
SELECT id, name FROM owners WHERE name_key = $1;

-- name: owners-unkeyed
-- Names stored without their key: before migration 0013, or by its previous release.
SELECT id, name FROM owners WHERE name_key IS NULL ORDER BY id;

-- name: key-owners!
-- The keys the app computed for them. A row another transaction holds is skipped, not waited
-- for (it may be waiting for the name lock this one holds): the next check keys it.
UPDATE owners o SET name_key = u.key
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, name, key)
WHERE o.id = u.id AND o.name = u.name AND o.name_key IS NULL
  AND o.id IN (SELECT id FROM owners WHERE id = ANY($1::bigint[]) FOR NO KEY UPDATE SKIP LOCKED);

-- name: lock-owner$
-- Before a change: a second change waits, then reads this one's result (none is lost).
SELECT id FROM owners WHERE id = $1 FOR NO KEY UPDATE;

-- name: lock-owner-for-delete$
-- Waits for a touchpoint being given to this owner (it holds the row FOR KEY SHARE), so the
-- count that follows sees it.
SELECT id FROM owners WHERE id = $1 FOR UPDATE;

-- name: hold-owner$
-- What a foreign key takes: the owner cannot be deleted until this transaction ends, and an
-- owner deleted meanwhile is not found.
SELECT id FROM owners WHERE id = $1 FOR KEY SHARE;

-- name: owned-touchpoint-count$
SELECT count(*) FROM touchpoints WHERE owner_id = $1;

-- name: delete-owner$
DELETE FROM owners WHERE id = $1 RETURNING id;

-- Journeys and stages --------------------------------------------------------

-- name: insert-journey$
INSERT INTO journeys (name, description, name_key) VALUES ($1, $2, $3) RETURNING id;

-- name: insert-stages!
INSERT INTO stages (journey_id, name, position)
SELECT $1, name, ord - 1 FROM unnest($2::text[]) WITH ORDINALITY AS s(name, ord);

-- name: get-journey^
-- $2: an owner's id limits the answer to journeys holding that owner's touchpoints.
SELECT j.id, j.name, j.description, j.created_at, j.updated_at,
    coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'position', s.position)
                               ORDER BY s.position)
              FROM stages s WHERE s.journey_id = j.id), '[]') AS stages
FROM journeys j
WHERE j.id = $1
  AND ($2::bigint IS NULL OR EXISTS (
        SELECT 1 FROM touchpoints t JOIN stages s ON s.id = t.stage_id
        WHERE s.journey_id = j.id AND t.owner_id = $2));

-- name: list-journeys
SELECT j.id, j.name, j.description, j.created_at, j.updated_at,
    coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'position', s.position)
                               ORDER BY s.position)
              FROM stages s WHERE s.journey_id = j.id), '[]') AS stages
FROM journeys j
WHERE j.id > $1
  AND ($2::bigint IS NULL OR EXISTS (
        SELECT 1 FROM touchpoints t JOIN stages s ON s.id = t.stage_id
        WHERE s.journey_id = j.id AND t.owner_id = $2))
ORDER BY j.id LIMIT $3;

-- name: update-journey!
UPDATE journeys SET name = $2, description = $3, name_key = $4, updated_at = now() WHERE id = $1;

-- name: lock-journey-names!
-- As lock-owner-names, for journeys.
SELECT pg_advisory_xact_lock(7463021908);

-- name: journey-named
-- As owner-named, owners-unkeyed and key-owners, for journeys.
SELECT id, name FROM journeys WHERE name_key = $1;

-- name: journeys-unkeyed
SELECT id, name FROM journeys WHERE name_key IS NULL ORDER BY id;

-- name: key-journeys!
UPDATE journeys j SET name_key = u.key
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, name, key)
WHERE j.id = u.id AND j.name = u.name AND j.name_key IS NULL
  AND j.id IN (SELECT id FROM journeys WHERE id = ANY($1::bigint[]) FOR NO KEY UPDATE SKIP LOCKED);

-- name: lock-journey$
SELECT id FROM journeys WHERE id = $1 FOR UPDATE;

-- name: journey-stage-ids
SELECT id FROM stages WHERE journey_id = $1;

-- name: lock-stages!
-- Stages about to be removed: a touchpoint being moved into one (FOR KEY SHARE) is waited
-- for, so the count that follows sees it.
SELECT id FROM stages WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE;

-- name: lock-journey-stages!
SELECT id FROM stages WHERE journey_id = $1 ORDER BY id FOR UPDATE;

-- name: stage-touchpoint-counts
SELECT s.id, s.name, count(t.id) AS touchpoints
FROM stages s LEFT JOIN touchpoints t ON t.stage_id = s.id
WHERE s.id = ANY($1::bigint[])
GROUP BY s.id, s.name;

-- name: delete-stages!
DELETE FROM stages WHERE id = ANY($1::bigint[]);

-- name: move-stages-aside!
-- Names and positions are unique per journey: park them before the new order is written.
UPDATE stages SET name = '~' || id::text, position = position + 100000 WHERE journey_id = $1;

-- name: place-stage!
UPDATE stages SET name = $2, position = $3 WHERE id = $1;

-- name: add-stage!
INSERT INTO stages (journey_id, name, position) VALUES ($1, $2, $3);

-- name: journey-touchpoint-count$
SELECT count(*) FROM touchpoints t JOIN stages s ON s.id = t.stage_id WHERE s.journey_id = $1;

-- name: delete-journey$
DELETE FROM journeys WHERE id = $1 RETURNING id;

-- name: hold-stage$
-- As hold-owner: the stage cannot be removed until this transaction ends.
SELECT id FROM stages WHERE id = $1 FOR KEY SHARE;

-- Touchpoints ------------------------------------------------------------------

-- name: visible-filters^
-- Whether each journey, stage and owner id a filter names exists for the caller; a null id is
-- true. $4, an owner key's owner, sees only itself, and journeys (with all their stages) only
-- while they hold one of its touchpoints, as get-journey: another owner's ids look like ids
-- that do not exist. stage_journey is the stage's journey, for telling a stage outside the journey
-- filter (read only when the stage is seen: then its journey is seen too).
SELECT
    $1::bigint IS NULL OR EXISTS (
        SELECT 1 FROM journeys j WHERE j.id = $1
          AND ($4::bigint IS NULL OR EXISTS (
                SELECT 1 FROM touchpoints t JOIN stages s ON s.id = t.stage_id
                WHERE s.journey_id = j.id AND t.owner_id = $4))) AS journey,
    $2::bigint IS NULL OR EXISTS (
        SELECT 1 FROM stages st WHERE st.id = $2
          AND ($4::bigint IS NULL OR EXISTS (
                SELECT 1 FROM touchpoints t JOIN stages s ON s.id = t.stage_id
                WHERE s.journey_id = st.journey_id AND t.owner_id = $4))) AS stage,
    $3::bigint IS NULL OR EXISTS (
        SELECT 1 FROM owners o WHERE o.id = $3 AND ($4::bigint IS NULL OR o.id = $4)) AS owner,
    (SELECT st.journey_id FROM stages st WHERE st.id = $2) AS stage_journey;

-- name: get-touchpoint^
SELECT t.id, t.key, t.name, s.journey_id, t.stage_id, s.name AS stage, t.channel,
    t.owner_id, o.name AS owner, t.kind, t.questions AS custom_questions, t.target,
    t.sample_rate, t.recontact_days, t.expiry_days, t.active, t.created_at, t.updated_at
FROM touchpoints t
JOIN stages s ON s.id = t.stage_id
JOIN owners o ON o.id = t.owner_id
WHERE t.key = $1 AND ($2::bigint IS NULL OR t.owner_id = $2);

-- name: list-touchpoints
SELECT t.id, t.key, t.name, s.journey_id, t.stage_id, s.name AS stage, t.channel,
    t.owner_id, o.name AS owner, t.kind, t.questions AS custom_questions, t.target,
    t.sample_rate, t.recontact_days, t.expiry_days, t.active, t.created_at, t.updated_at
FROM touchpoints t
JOIN stages s ON s.id = t.stage_id
JOIN owners o ON o.id = t.owner_id
WHERE t.id > $1
  AND ($2::bigint IS NULL OR t.owner_id = $2)
  AND ($3::bigint IS NULL OR s.journey_id = $3)
  AND ($4::bigint IS NULL OR t.stage_id = $4)
  AND ($5::bigint IS NULL OR t.owner_id = $5)
  AND ($6::text IS NULL OR t.channel = $6)
  AND ($7::text IS NULL OR t.kind = $7)
  AND ($8::boolean IS NULL OR t.active = $8)
ORDER BY t.id LIMIT $9;

-- name: lock-touchpoint$
-- NO KEY UPDATE: a second change waits and then reads this one's result, while answers being
-- stored (their foreign key takes KEY SHARE) are not held up.
SELECT id FROM touchpoints WHERE key = $1 FOR NO KEY UPDATE;

-- name: lock-touchpoint-for-delete$
-- Waits for answers and invitations being stored (they hold the row FOR KEY SHARE), so the
-- history count that follows sees them rather than the delete cascading over them.
SELECT id FROM touchpoints WHERE key = $1 FOR UPDATE;

-- name: insert-touchpoint$
INSERT INTO touchpoints (key, name, stage_id, channel, owner_id, kind, questions, target,
                         sample_rate, recontact_days, expiry_days, active, name_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
RETURNING key;

-- name: update-touchpoint!
UPDATE touchpoints SET name = $2, stage_id = $3, channel = $4, owner_id = $5, kind = $6,
    questions = $7, target = $8, sample_rate = $9, recontact_days = $10, expiry_days = $11,
    active = $12, name_key = $13, updated_at = now()
WHERE key = $1;

-- name: lock-touchpoint-names!
-- As lock-owner-names, for touchpoint names (which differ within an owner).
SELECT pg_advisory_xact_lock(7463021910);

-- name: touchpoint-named
-- The owner's other touchpoints ($3: the one being changed, or '') whose name has this key
-- (index touchpoints_owner_name_key, migration 0016).
SELECT id, key, name FROM touchpoints WHERE owner_id = $1 AND name_key = $2 AND key <> $3;

-- name: touchpoints-unkeyed
-- As owners-unkeyed, for one owner's touchpoints.
SELECT id, key, name FROM touchpoints WHERE owner_id = $1 AND name_key IS NULL ORDER BY id;

-- name: key-touchpoints!
-- As key-owners.
UPDATE touchpoints t SET name_key = u.key
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, name, key)
WHERE t.id = u.id AND t.name = u.name AND t.name_key IS NULL
  AND t.id IN (SELECT id FROM touchpoints WHERE id = ANY($1::bigint[]) FOR NO KEY UPDATE SKIP LOCKED);

-- name: touchpoint-history^
SELECT (SELECT count(*) FROM responses r WHERE r.touchpoint_id = t.id) AS responses,
       (SELECT count(*) FROM invitations i WHERE i.touchpoint_id = t.id) AS invitations
FROM touchpoints t WHERE t.key = $1;

-- name: delete-touchpoint$
DELETE FROM touchpoints WHERE key = $1 RETURNING id;
