-- Latchkey 0003 (SQLite): staff roles and API keys for the portal.
-- Keep in step with ../postgres/0003_admin.sql.

-- The domains a Local Registration Authority looks after (users.role = 'lra').
CREATE TABLE staff_domains (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    domain_id  BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, domain_id)
);

-- Keys of the organisation's portal; only the SHA-256 (hex) of a key is kept.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    prefix        TEXT    NOT NULL,
    key_hash      TEXT    NOT NULL UNIQUE,
    created_at    BIGINT  NOT NULL,
    created_by    TEXT,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE INDEX audit_events_kind ON audit_events (kind, at);
