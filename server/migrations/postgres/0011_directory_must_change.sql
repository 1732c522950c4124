-- A directory user's `must_change` now holds only Latchkey's own demand (an
-- administrator's mandatory reset); the directory's flag is read at each
-- sign-in instead of copied. Rows written before held the directory's flag.
UPDATE users SET must_change = FALSE WHERE directory_id IS NOT NULL;
