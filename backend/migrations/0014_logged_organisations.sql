-- The organisations that appear in a citizen's log, kept on the citizen's head row. The access-log page offers
-- them as its institution filter on every view; reading them from the events was a DISTINCT over every event of
-- the citizen in every monthly partition (twelve index scans a year of retention, growing with the log), while
-- the head row is already locked and rewritten by every append. See docs/decisions/0014-logged-organisations.md.
--
-- In order of first appearance; each organisation once. It is derived from the events (not part of the chain):
-- vitrine verify-log checks it against them.
ALTER TABLE access_log_heads ADD COLUMN org_ids uuid[] NOT NULL DEFAULT '{}';

UPDATE access_log_heads AS h
SET org_ids = logged.org_ids
FROM (
    SELECT citizen_id, array_agg(actor_org_id ORDER BY first_seq) AS org_ids
    FROM (
        SELECT citizen_id, actor_org_id, min(seq) AS first_seq
        FROM access_events
        WHERE actor_org_id IS NOT NULL
        GROUP BY citizen_id, actor_org_id
    ) AS firsts
    GROUP BY citizen_id
) AS logged
WHERE h.citizen_id = logged.citizen_id;
