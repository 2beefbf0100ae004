-- +goose Up
-- An express parcel out for delivery has a delivery code (签收码), sent to
-- the recipient by SMS and asked for at the door: its keyed hash, one per
-- parcel (a new dispatch draws a new one). The proof of a delivery by our
-- courier's phone: how the recipient was verified (the code, or the last
-- digits of their ID number), a photo and a drawn signature, encrypted and
-- bound to the parcel. Both are personal data, deleted by the purge.
CREATE TABLE delivery_codes (
    parcel_id  bigint PRIMARY KEY REFERENCES parcels (id),
    code_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE delivery_proofs (
    parcel_id     bigint NOT NULL REFERENCES parcels (id),
    event_seq     int NOT NULL,
    method        text NOT NULL CHECK (method IN ('code', 'id')),
    photo_type    text NOT NULL,
    photo_enc     bytea NOT NULL,
    signature_enc bytea NOT NULL,
    PRIMARY KEY (parcel_id, event_seq)
);

-- +goose Down
DROP TABLE delivery_proofs;
DROP TABLE delivery_codes;
