-- +goose Up
-- A booking's life: queued, booked (the courier's waybill number, or a
-- reference typed in by staff when the courier's API is down), failed
-- (the courier refused, or the outcome needs a person), and when its run
-- is cancelled: cancelling, cancelled, or cancel_manual (the courier has
-- no cancel a program may call: a person telephones). Every change is a
-- row of booking_events, which is only appended.
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('pending', 'booked', 'failed', 'cancelling', 'cancelled', 'cancel_manual'));
ALTER TABLE bookings ADD COLUMN attempts int NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN updated_at timestamptz;
CREATE INDEX bookings_ref ON bookings (carrier, carrier_ref) WHERE carrier_ref <> '';

CREATE TABLE booking_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id  bigint NOT NULL REFERENCES bookings (id),
    at          timestamptz NOT NULL,
    status      text NOT NULL,
    carrier     text NOT NULL,
    carrier_ref text NOT NULL DEFAULT '',
    note        text NOT NULL DEFAULT '',
    actor       text NOT NULL DEFAULT ''
);
CREATE INDEX booking_events_booking ON booking_events (booking_id, id);
REVOKE UPDATE, DELETE, TRUNCATE ON booking_events FROM courier_service;

-- A run not yet picked up may be cancelled: its parcels wait for the next.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('sealed', 'picked_up', 'arrived', 'closed', 'cancelled'));
ALTER TABLE runs ADD COLUMN cancelled_at timestamptz;
ALTER TABLE runs ADD COLUMN cancel_reason text NOT NULL DEFAULT '';

-- The origin's staff put the parcels of a run they cancel back to wait
-- (book, awaiting_pickup to awaiting_pickup), as admins and the schedule may.
INSERT INTO transition_rules (action, from_status, to_status, role) VALUES
    ('book', 'awaiting_pickup', 'awaiting_pickup', 'clerk'),
    ('book', 'awaiting_pickup', 'awaiting_pickup', 'staff'),
    ('book', 'awaiting_pickup', 'awaiting_pickup', 'hall_lead');

-- The pushes find a waybill's nodes; the reconciliation the runs gone quiet.
CREATE INDEX route_nodes_waybill ON route_nodes (carrier, waybill_no, at);

-- +goose Down
DELETE FROM transition_rules WHERE action = 'book' AND from_status = 'awaiting_pickup' AND to_status = 'awaiting_pickup'
    AND role IN ('clerk', 'staff', 'hall_lead');
DROP INDEX route_nodes_waybill;
ALTER TABLE runs DROP COLUMN cancel_reason;
ALTER TABLE runs DROP COLUMN cancelled_at;
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('sealed', 'picked_up', 'arrived', 'closed'));
DROP TABLE booking_events;
DROP INDEX bookings_ref;
ALTER TABLE bookings DROP COLUMN updated_at;
ALTER TABLE bookings DROP COLUMN attempts;
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check CHECK (status IN ('pending', 'booked', 'failed', 'cancelled'));
