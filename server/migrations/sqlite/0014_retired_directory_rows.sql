-- A directory user's row whose name passed to another directory entry (a
-- different stable id: the person was deleted and the name reused, or
-- another entry renamed onto it) is set apart, never re-keyed to the new
-- person: its name key becomes `#retired:<id>` (no user name can hold `#`),
-- and this says when. Its enrolment, factors and role stay with it.
ALTER TABLE users ADD COLUMN retired_at BIGINT;
