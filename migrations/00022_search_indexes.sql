-- +goose Up
-- The staff search by a holder's name or a phone's last four digits looks
-- each up by an index of its own (ListParcels unites the ids). Both are on
-- parcel_people, written at registration and at the purge only: a scan
-- writes none of them.
CREATE INDEX parcel_people_name ON parcel_people (name) WHERE name <> '';
CREATE INDEX parcel_people_phone_tail ON parcel_people (right(phone, 4)) WHERE phone <> '';

-- The desk's lists by days of registration walk this backwards. Its
-- columns are set at registration and never change, so a scan's update of
-- the parcel stays heap-only (HOT: no index entry).
CREATE INDEX parcels_created ON parcels (created_at, id);

-- +goose Down
DROP INDEX parcels_created;
DROP INDEX parcel_people_phone_tail;
DROP INDEX parcel_people_name;
