-- Mail to send (notifications of account changes), written in the
-- transaction of the change it reports and sent by a background task.
-- status: waiting | sending (claimed until claimed_until) | sent | failed.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,
    recipient        TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body_text        TEXT    NOT NULL,
    body_html        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         BIGINT  NOT NULL,
    next_attempt_at  BIGINT  NOT NULL,
    claimed_until    BIGINT,
    created_at       BIGINT  NOT NULL,
    sent_at          BIGINT,
    last_error       TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
