-- +goose Up
-- A proxy's authorisation (委托书) photographed or uploaded at the counter:
-- ciphertext bound to the parcel, kept with the handover's people and
-- deleted with them when the personal data is purged.
ALTER TABLE handover_people ADD COLUMN photo_type text, ADD COLUMN photo_enc bytea,
    ADD CHECK ((photo_type IS NULL) = (photo_enc IS NULL));

-- +goose Down
ALTER TABLE handover_people DROP COLUMN photo_type, DROP COLUMN photo_enc;
