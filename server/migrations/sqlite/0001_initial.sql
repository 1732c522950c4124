-- Latchkey initial schema (SQLite). Keep in step with ../postgres/0001_initial.sql.
-- Conventions shared by both backends (the server talks to both through sqlx's
-- Any driver): times are BIGINT unix seconds, booleans are INTEGER 0/1 here and
-- BOOLEAN in PostgreSQL, ids are BIGINT (TEXT for sessions).

CREATE TABLE domains (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    slug               TEXT    NOT NULL UNIQUE,
    name               TEXT    NOT NULL,
    sspm_available     INTEGER NOT NULL DEFAULT 1,
    unavailable_text   TEXT,
    -- PasswordPolicy as JSON; policy_version is authoritative for its version.
    policy             TEXT    NOT NULL,
    policy_version     BIGINT  NOT NULL DEFAULT 1,
    -- NULL = use the server-wide setting.
    lockout_threshold  BIGINT,
    lockout_minutes    BIGINT,
    created_at         BIGINT  NOT NULL
);

CREATE TABLE users (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id                 BIGINT  NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    username                  TEXT    NOT NULL,
    username_key              TEXT    NOT NULL,
    display_name              TEXT    NOT NULL,
    email                     TEXT,
    password_hash             TEXT    NOT NULL,
    password_changed_at       BIGINT  NOT NULL,
    temp_password             INTEGER NOT NULL DEFAULT 0,
    temp_password_expires_at  BIGINT,
    must_change               INTEGER NOT NULL DEFAULT 0,
    disabled                  INTEGER NOT NULL DEFAULT 0,
    role                      TEXT    NOT NULL DEFAULT 'user',
    created_at                BIGINT  NOT NULL,
    UNIQUE (domain_id, username_key)
);

CREATE TABLE password_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at);

-- id is the SHA-256 (hex) of the random token in the cookie; the token itself
-- is never stored.
CREATE TABLE sessions (
    id            TEXT    PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    must_change   INTEGER NOT NULL DEFAULT 0,
    -- When the user last proved their password again (for later sensitive steps).
    reauth_at     BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Keyed by the user name as typed (lower-cased), whether or not such a user
-- exists, so a locked answer reveals nothing.
CREATE TABLE failure_counters (
    domain_id     BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    username_key  TEXT   NOT NULL,
    failed_count  BIGINT NOT NULL,
    locked_at     BIGINT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (domain_id, username_key)
);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    actor      TEXT,
    subject    TEXT,
    domain     TEXT,
    source_ip  TEXT,
    result     TEXT   NOT NULL,
    detail     TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_subject ON audit_events (domain, subject);

CREATE TABLE notices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    -- Calendar date, ISO YYYY-MM-DD.
    posted_on   TEXT    NOT NULL,
    published   INTEGER NOT NULL DEFAULT 1,
    sort_order  BIGINT  NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
