-- A directory-backed domain's users keep, in Latchkey, only what is
-- Latchkey's own (enrolment, counters, sessions, role, audit), keyed by the
-- directory's stable id (entryUUID / objectGUID) so that a renamed or moved
-- user keeps them. Their password_hash is empty: the password is the
-- directory's, never stored here.
ALTER TABLE users ADD COLUMN directory_id TEXT;
CREATE UNIQUE INDEX users_directory_id ON users (domain_id, directory_id);
