-- +goose Up
-- The one-time code that lets a recipient choose express to the door
-- through the private link: sent to the phone on file, its keyed hash kept
-- ten minutes, five tries, one code a minute.
CREATE TABLE redirect_codes (
    parcel_id  bigint PRIMARY KEY REFERENCES parcels (id),
    code_hash  bytea NOT NULL,
    sent_at    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    tries      int NOT NULL DEFAULT 0
);

-- A parcel its recipient redirected goes to an address from the hall it
-- was bound for: it keeps that hall as its dest_site (the courier collects
-- it there). Hall and department parcels still need theirs.
-- +goose StatementBegin
DO $$
DECLARE c text;
BEGIN
    SELECT conname INTO c FROM pg_constraint WHERE conrelid = 'parcels'::regclass AND contype = 'c'
        AND pg_get_constraintdef(oid) LIKE '%address%dest_site IS NULL%';
    EXECUTE format('ALTER TABLE parcels DROP CONSTRAINT %I', c);
END $$;
-- +goose StatementEnd
ALTER TABLE parcels ADD CONSTRAINT parcels_dest_site CHECK (dest_kind = 'address' OR dest_site IS NOT NULL);

-- +goose Down
ALTER TABLE parcels DROP CONSTRAINT parcels_dest_site;
ALTER TABLE parcels ADD CHECK ((dest_kind = 'address') = (dest_site IS NULL));
DROP TABLE redirect_codes;
