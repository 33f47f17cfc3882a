-- The session row is read on every signed-in request and rewritten while the person is active (the token is
-- renewed every few minutes, which stamps last_seen_at; switching whom one acts for sets acting_for). Room left
-- on each page lets those updates stay HOT: the new row version goes on the same page and no index entry is
-- added, so the primary-key lookup every request starts with keeps landing on a compact index.
ALTER TABLE sessions SET (fillfactor = 80);
