-- When the last reminder that a password expires soon was mailed (one per
-- password: a later change makes the next one due again).
ALTER TABLE users ADD COLUMN expiry_reminded_at BIGINT;
