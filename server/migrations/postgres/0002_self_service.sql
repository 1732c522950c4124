-- Latchkey 0002 (PostgreSQL): self-service with security questions (issue 3).
-- Keep in step with ../sqlite/0002_self_service.sql.

-- A domain's SelfServiceSettings as JSON (shared/src/self_service.rs); no row
-- = the defaults (the default question catalogue, 3 enrolled, 2 asked, ...).
CREATE TABLE self_service_settings (
    domain_id  BIGINT NOT NULL PRIMARY KEY REFERENCES domains (id) ON DELETE CASCADE,
    settings   TEXT   NOT NULL
);

-- Enrolled questions; answers only as argon2id PHC strings of the
-- normalised answer (never reversible).
CREATE TABLE security_answers (
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    question     TEXT   NOT NULL,
    answer_hash  TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, position)
);

-- One Unlock Account / Forgot Password verification in progress. id is the
-- SHA-256 (hex) of the random flow id the client holds. Any instance can
-- continue a flow another started.
CREATE TABLE self_service_flows (
    id                  TEXT    PRIMARY KEY,
    kind                TEXT    NOT NULL,
    domain_id           BIGINT  NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    -- identify | questions | confirm | password
    step                TEXT    NOT NULL,
    username_key        TEXT,
    user_id             BIGINT,
    -- JSON: the questions asked, and the enrolled positions they come from
    -- (empty for a name that is unknown or not enrolled).
    questions           TEXT,
    positions           TEXT,
    verified            BOOLEAN NOT NULL DEFAULT FALSE,
    -- keyed SHA-256 (hex) of the expected CAPTCHA characters; NULL once used.
    captcha_hash        TEXT,
    captcha_expires_at  BIGINT,
    captcha_attempts    BIGINT  NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    expires_at          BIGINT  NOT NULL
);
CREATE INDEX self_service_flows_expires ON self_service_flows (expires_at);

-- Failed verifications per (domain, user name as typed), counted atomically
-- before the answers are checked, like failure_counters for sign-in.
CREATE TABLE self_service_failures (
    domain_id     BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    username_key  TEXT   NOT NULL,
    failed_count  BIGINT NOT NULL,
    window_start  BIGINT NOT NULL,
    blocked_at    BIGINT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (domain_id, username_key)
);
