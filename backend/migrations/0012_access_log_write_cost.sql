-- What every access-log row costs to write: about 1.5 billion rows a year go into access_events, so each
-- per-row check and index is paid 1.5 billion times. See docs/decisions/0010-access-log-write-cost.md.

-- The per-row foreign key to people: a lookup in people (and a row lock on it) for every event, about half of
-- the server's CPU time per row in COPY. Integrity holds without it: every write path appends under the
-- citizen's head row, locked or created in the same transaction (record_access and record_accesses), and
-- access_log_heads.citizen_id references people, so an event's citizen exists when it is written; the person
-- cannot be deleted afterwards either, since the head row (which the application may not delete) still
-- references them.
ALTER TABLE access_events DROP CONSTRAINT access_events_citizen_id_fkey;

-- No query looks an event up by event_id alone: the contest looks it up within one citizen
-- (citizen_id = $1 AND event_id = $2), which the primary key's citizen_id prefix serves. A random uuid index
-- costs a random b-tree insert per row.
DROP INDEX access_events_event_id;

-- The head row of a citizen is rewritten once per batch that touches them; room on each page keeps those
-- updates HOT (no new primary-key entry, no index bloat on a table of 11 million rows).
ALTER TABLE access_log_heads SET (fillfactor = 70);

-- The same reasoning for declarations: every ingested event row checked its person twice, once directly and
-- once through its record ((citizen_id, record_id) references records, whose citizen_id references people).
-- The direct check is implied by the other and was about a fifth of the ingest insert's time. Should the
-- foreign key to records ever be dropped (ingested_events distributed by source, docs/scaling.md), this one
-- comes back with it.
ALTER TABLE ingested_events DROP CONSTRAINT ingested_events_citizen_id_fkey;
