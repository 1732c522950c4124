-- Wrong second-factor codes per name as typed (unknown names count the same
-- way, so a stopped self-service tells nothing about who exists). Not reset
-- by time: at MAX_WRONG_CODES the name's self-service stops (halted_at)
-- until the owner signs in or the Help Desk unlocks or clears the enrolment.
CREATE TABLE code_failures (
    domain_id     BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    username_key  TEXT   NOT NULL,
    wrong_codes   BIGINT NOT NULL,
    halted_at     BIGINT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (domain_id, username_key)
);

-- The code mailed to an account for Unlock Account / Forgot Password: its
-- keyed hash while it is valid (NULL once used), and how many were mailed
-- in the hour from window_start. One per account, so a second request
-- within the code's life mails nothing new. (self_service_flows.code_hash
-- and code_expires_at, from 0008, are no longer written.)
CREATE TABLE mail_codes (
    user_id         BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    code_hash       TEXT,
    expires_at      BIGINT NOT NULL,
    window_start    BIGINT NOT NULL,
    sent_in_window  BIGINT NOT NULL
);

-- A mail that is worthless after a time (a one-time code): not sent after
-- it, and its body blanked.
ALTER TABLE outbox ADD COLUMN expires_at BIGINT;
