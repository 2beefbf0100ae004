-- +goose Up
-- Wrong phone tails per parcel over its whole life, from every client: past
-- the limit the tail no longer opens the parcel's detail. A table of its own,
-- so that counting never touches (or waits on) the parcels row scans update.
CREATE TABLE tail_failures (
    parcel_id bigint PRIMARY KEY REFERENCES parcels (id),
    failures  int NOT NULL CHECK (failures >= 0),
    last_at   timestamptz NOT NULL
);

-- Each parcel's private link (/s/{token}), made at registration: it opens
-- the public detail without the phone tail until the journey ended 7 days
-- ago; the purge job then deletes it. The token is never stored in clear: a
-- keyed hash to find it, and AES-GCM ciphertext (the data key) to send it
-- again (the ready SMS).
CREATE TABLE parcel_links (
    parcel_id  bigint PRIMARY KEY REFERENCES parcels (id),
    token_hash bytea NOT NULL UNIQUE,
    token_enc  bytea NOT NULL,
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE parcel_links;
DROP TABLE tail_failures;
