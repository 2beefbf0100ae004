-- +goose Up
-- A courier works for one of the carriers (empty: the city's own runner,
-- who sees only what is assigned to them). A booking is assigned to one
-- courier, by an administrator or taken by a courier of its carrier; the
-- courier's handover at the destination is recorded on the run (the hall's
-- receive of the bag completes it). Each change is in booking_events too.
ALTER TABLE users ADD COLUMN carrier text NOT NULL DEFAULT ''
    CHECK (carrier IN ('', 'sfexpress', 'ems', 'manual'));
ALTER TABLE bookings ADD COLUMN courier_id bigint REFERENCES users (id);
ALTER TABLE bookings ADD COLUMN assigned_at timestamptz;
CREATE INDEX bookings_courier ON bookings (courier_id) WHERE courier_id IS NOT NULL;
CREATE INDEX bookings_open ON bookings (carrier) WHERE status = 'booked' AND courier_id IS NULL;
ALTER TABLE runs ADD COLUMN handed_over_at timestamptz;
ALTER TABLE runs ADD COLUMN handed_over_by bigint REFERENCES users (id);

-- +goose Down
ALTER TABLE runs DROP COLUMN handed_over_by;
ALTER TABLE runs DROP COLUMN handed_over_at;
DROP INDEX bookings_open;
DROP INDEX bookings_courier;
ALTER TABLE bookings DROP COLUMN assigned_at;
ALTER TABLE bookings DROP COLUMN courier_id;
ALTER TABLE users DROP COLUMN carrier;
