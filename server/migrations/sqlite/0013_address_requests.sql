-- Address changes an account asked for (each mails a code to the address
-- typed) within the hour from window_start: counted with one upsert, so
-- parallel requests cannot slip past the limit.
CREATE TABLE address_requests (
    user_id       BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    window_start  BIGINT  NOT NULL,
    requests      BIGINT  NOT NULL
);
