-- A flow's one-time code by mail (the second factor for people without an
-- authenticator app): only its keyed hash, valid until code_expires_at and
-- cleared when used.
ALTER TABLE self_service_flows ADD COLUMN code_hash TEXT;
ALTER TABLE self_service_flows ADD COLUMN code_expires_at BIGINT;
