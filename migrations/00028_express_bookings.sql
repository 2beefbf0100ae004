-- +goose Up
-- An express parcel (to the recipient's address) has a booking of its own
-- with the courier that delivers express parcels: the same table and
-- history as a run's, for a parcel instead of a run.
ALTER TABLE bookings ALTER COLUMN run_id DROP NOT NULL;
ALTER TABLE bookings ADD COLUMN parcel_id bigint UNIQUE REFERENCES parcels (id);
ALTER TABLE bookings ADD CONSTRAINT bookings_one_of CHECK (num_nonnulls(run_id, parcel_id) = 1);

-- +goose Down
DELETE FROM booking_events WHERE booking_id IN (SELECT id FROM bookings WHERE parcel_id IS NOT NULL);
DELETE FROM bookings WHERE parcel_id IS NOT NULL;
ALTER TABLE bookings DROP CONSTRAINT bookings_one_of;
ALTER TABLE bookings DROP COLUMN parcel_id;
ALTER TABLE bookings ALTER COLUMN run_id SET NOT NULL;
