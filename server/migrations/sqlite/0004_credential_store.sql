-- Which credential store holds each domain's passwords ('local': Latchkey's
-- own argon2id hashes). Directory stores come later; every existing domain
-- stays local.
ALTER TABLE domains ADD COLUMN credential_store TEXT NOT NULL DEFAULT 'local';
