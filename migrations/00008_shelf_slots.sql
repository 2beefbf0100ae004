-- +goose Up
-- Shelf slots (货位): each hall keeps a list of its slots, kept by admins.
-- A shelved parcel records its slot on the parcel and in the event's detail.
CREATE TABLE slots (
    site_code  text NOT NULL REFERENCES sites (code),
    code       text NOT NULL CHECK (code ~ '^[A-Z0-9]{1,4}(-[A-Z0-9]{1,4}){0,3}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_code, code)
);

-- A hall's settings, one row per hall; a hall without a row has the defaults.
CREATE TABLE hall_settings (
    site_code     text PRIMARY KEY REFERENCES sites (code),
    slot_required boolean NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The slot a ready parcel stands in (staff only; never public).
ALTER TABLE parcels ADD COLUMN slot text
    CHECK (slot ~ '^[A-Z0-9]{1,4}(-[A-Z0-9]{1,4}){0,3}$');

-- reslot (移位): a ready parcel moves to another slot of the same hall.
INSERT INTO transition_rules (action, from_status, to_status, role) VALUES
    ('reslot', 'ready', 'ready', 'admin'),
    ('reslot', 'ready', 'ready', 'staff');

-- +goose Down
DELETE FROM transition_rules WHERE action = 'reslot';
ALTER TABLE parcels DROP COLUMN slot;
DROP TABLE hall_settings;
DROP TABLE slots;
