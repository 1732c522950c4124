-- A new mail address waiting for the code mailed to it: only the code's
-- keyed hash, valid until expires_at; the address replaces users.email
-- once confirmed.
CREATE TABLE address_changes (
    user_id     BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    attempts    BIGINT  NOT NULL
);
