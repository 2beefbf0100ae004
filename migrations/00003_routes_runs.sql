-- +goose Up
-- Routes: the legs between sites, each carried by consolidation runs on a
-- schedule (robfig/cron, 5 fields, Asia/Shanghai). Reference legs are
-- inserted where absent at start-up; administrators edit them.
CREATE TABLE legs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_site   text NOT NULL REFERENCES sites (code),
    to_site     text NOT NULL REFERENCES sites (code),
    schedule    text NOT NULL,
    sla_hours   int NOT NULL DEFAULT 24 CHECK (sla_hours BETWEEN 1 AND 720),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (from_site <> to_site),
    UNIQUE (from_site, to_site)
);

-- Days that differ from Monday–Friday: holidays (closed) and the make-up
-- working days of 调休 (workday).
CREATE TABLE calendar_days (
    day        date PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('closed', 'workday')),
    note       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One slot of one leg, claimed once across all instances: the unique key is
-- what makes each slot produce exactly one run (or none, when nothing waits).
CREATE TABLE run_slots (
    leg_id     bigint NOT NULL REFERENCES legs (id),
    slot       timestamptz NOT NULL,
    run_id     bigint,
    parcels    int NOT NULL DEFAULT 0,
    made_by    text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (leg_id, slot)
);

-- A consolidation run: one sealed bag with a manifest, one courier booking.
CREATE TABLE runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_no        text NOT NULL UNIQUE CHECK (length(run_no) = 16),
    bag_no        text NOT NULL UNIQUE CHECK (length(bag_no) = 16),
    seal_no       text NOT NULL,
    leg_id        bigint NOT NULL REFERENCES legs (id),
    from_site     text NOT NULL REFERENCES sites (code),
    to_site       text NOT NULL REFERENCES sites (code),
    slot          timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('sealed', 'picked_up', 'arrived', 'closed')),
    parcel_count  int NOT NULL,
    created_at    timestamptz NOT NULL,
    picked_up_at  timestamptz,
    arrived_at    timestamptz,
    closed_at     timestamptz,
    UNIQUE (leg_id, slot)
);
CREATE INDEX runs_to_site ON runs (to_site, status);
CREATE INDEX runs_created ON runs (created_at);

-- The parcels of a run and, at the receiving site, whether each was seen.
-- No foreign keys: a run's items are written by the one statement that
-- reads the parcels and the run it links (internal/postgres MakeRunSQL), and
-- the checks cost 40% of making a slot's runs.
CREATE TABLE run_items (
    run_id    bigint NOT NULL,
    parcel_id bigint NOT NULL,
    seen_at   timestamptz,
    outcome   text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'received', 'missing')),
    PRIMARY KEY (run_id, parcel_id)
);
CREATE INDEX run_items_parcel ON run_items (parcel_id);

-- Parcels a receiving site scanned that were not in the bag it opened.
CREATE TABLE run_extras (
    run_id    bigint NOT NULL REFERENCES runs (id),
    parcel_id bigint NOT NULL REFERENCES parcels (id),
    seen_at   timestamptz NOT NULL,
    PRIMARY KEY (run_id, parcel_id)
);

-- Courier bookings, one per run, made through the carrier interface.
CREATE TABLE bookings (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      bigint NOT NULL UNIQUE REFERENCES runs (id),
    carrier     text NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'booked', 'failed', 'cancelled')),
    carrier_ref text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    booked_at   timestamptz,
    last_error  text NOT NULL DEFAULT ''
);

-- Scheduled jobs: their settings and their history, for administrators.
CREATE TABLE job_settings (
    name       text PRIMARY KEY,
    enabled    boolean NOT NULL DEFAULT true,
    schedule   text NOT NULL,
    params     jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE job_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    outcome     text NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'ok', 'failed')),
    affected    int NOT NULL DEFAULT 0,
    detail      jsonb NOT NULL DEFAULT '{}',
    error       text NOT NULL DEFAULT ''
);
CREATE INDEX job_runs_name ON job_runs (name, started_at DESC);
-- One slot of one job, claimed once across all instances.
CREATE TABLE job_slots (
    name       text NOT NULL,
    slot       timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (name, slot)
);

-- Messages for a site's staff (a department told of a returning parcel),
-- beside the SMS messages to citizens.
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('sms', 'site'));
ALTER TABLE outbox ADD COLUMN site_code text REFERENCES sites (code);

-- The run a parcel is in (until it is received), and a flag for a parcel
-- whose path no longer exists after an administrator changed the routes.
ALTER TABLE parcels ADD COLUMN current_run bigint; -- runs.id; no foreign key, as for run_items
ALTER TABLE parcels ADD COLUMN path_broken boolean NOT NULL DEFAULT false;
ALTER TABLE parcels ADD COLUMN last_progress_at timestamptz;
ALTER TABLE parcels ADD COLUMN reminded_at timestamptz;
ALTER TABLE parcels ADD COLUMN sla_alerted_at timestamptz;
-- Parcels waiting for a run, by the leg they wait for.
CREATE INDEX parcels_waiting ON parcels ((path[path_idx + 1]), (path[path_idx + 2]))
    WHERE current_run IS NULL AND status IN ('registered', 'awaiting_pickup', 'arrived', 'returning') AND NOT leg_moving;
CREATE INDEX parcels_ready ON parcels (ready_since) WHERE status = 'ready';
CREATE INDEX parcels_ended ON parcels (journey_ended_at) WHERE journey_ended_at IS NOT NULL;

-- +goose Down
ALTER TABLE outbox DROP COLUMN site_code;
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('sms'));
DROP TABLE job_slots;
ALTER TABLE parcels DROP COLUMN sla_alerted_at;
DROP INDEX parcels_ended;
DROP INDEX parcels_ready;
DROP INDEX parcels_waiting;
ALTER TABLE parcels DROP COLUMN reminded_at;
ALTER TABLE parcels DROP COLUMN last_progress_at;
ALTER TABLE parcels DROP COLUMN path_broken;
ALTER TABLE parcels DROP COLUMN current_run;
DROP TABLE job_runs;
DROP TABLE job_settings;
DROP TABLE bookings;
DROP TABLE run_extras;
DROP TABLE run_items;
DROP TABLE runs;
DROP TABLE run_slots;
DROP TABLE calendar_days;
DROP TABLE legs;
