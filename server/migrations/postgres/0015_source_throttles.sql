-- Failed credential checks per source (an IPv4 address, an IPv6 /64),
-- across every account and flow: the throttle in front of the password
-- work (see server/src/accounts/throttle.rs). `failures` counts from
-- `window_start`, each attempt counted when admitted and taken back when it
-- did not fail; `locks` counts the accounts the source locked in the same
-- window; no attempt is admitted before `blocked_until`. A row whose
-- window has passed and that blocks nothing is deleted by the purge.
CREATE TABLE source_throttles (
    source         TEXT   PRIMARY KEY,
    window_start   BIGINT NOT NULL,
    failures       BIGINT NOT NULL,
    locks          BIGINT NOT NULL,
    blocked_until  BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX source_throttles_blocked ON source_throttles (blocked_until);
