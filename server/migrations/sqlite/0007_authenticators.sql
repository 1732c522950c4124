-- A user's authenticator app (TOTP, RFC 6238): its key encrypted with the
-- server's key (never in the clear), confirmed once the user typed a code
-- from it, and the last time step accepted, so that no code is used twice.
CREATE TABLE authenticators (
    user_id       BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret        TEXT    NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL
);
