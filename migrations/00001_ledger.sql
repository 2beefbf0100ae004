-- +goose Up
-- Sites: halls, hubs and departments, by stable code. Reference data is
-- inserted where absent at start-up; administrators may edit it.
CREATE TABLE sites (
    code          text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9-]{1,31}$'),
    kind          text NOT NULL CHECK (kind IN ('hall', 'hub', 'department')),
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    province      text NOT NULL,
    city          text NOT NULL,
    district      text NOT NULL,
    street        text NOT NULL DEFAULT '',
    detail        text NOT NULL DEFAULT '',
    phone         text NOT NULL DEFAULT '',
    hours_zh      text NOT NULL DEFAULT '',
    hours_en      text NOT NULL DEFAULT '',
    windows       jsonb NOT NULL DEFAULT '[]',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cert_types (
    code           text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,47}$'),
    name_zh        text NOT NULL,
    name_en        text NOT NULL,
    retention_days int  NOT NULL CHECK (retention_days BETWEEN 1 AND 365),
    bring_zh       text NOT NULL DEFAULT '',
    bring_en       text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9_.-]{1,63}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'clerk', 'staff', 'courier', 'api_client')),
    site_code     text REFERENCES sites (code),
    departments   text[] NOT NULL DEFAULT '{}',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role IN ('clerk', 'staff')) = (site_code IS NOT NULL))
);

-- API tokens are stored only as SHA-256 hashes.
CREATE TABLE api_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The action table as data, for set-based SQL (a run moves thousands of
-- parcels in one statement). Kept equal to shipment.Rules by a test.
CREATE TABLE transition_rules (
    action      text NOT NULL,
    from_status text NOT NULL,
    to_status   text NOT NULL,
    role        text NOT NULL,
    PRIMARY KEY (action, from_status, to_status, role)
);

-- The current state of each parcel: ids and codes only. Written in the same
-- transaction as the event that changes it.
CREATE TABLE parcels (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    waybill_no     text NOT NULL UNIQUE CHECK (length(waybill_no) = 16),
    kind           text NOT NULL CHECK (kind IN ('certificate', 'materials')),
    origin_site    text NOT NULL REFERENCES sites (code),
    dest_kind      text NOT NULL CHECK (dest_kind IN ('hall', 'department', 'address')),
    dest_site      text REFERENCES sites (code),
    path           text[] NOT NULL,
    path_idx       int NOT NULL DEFAULT 0,
    leg_moving     boolean NOT NULL DEFAULT false,
    status         text NOT NULL CHECK (status IN ('registered', 'awaiting_pickup', 'in_transit', 'arrived',
                       'ready', 'collected', 'out_for_delivery', 'delivered', 'exception', 'returning',
                       'returned', 'cancelled')),
    prev_status    text,
    cert_type      text REFERENCES cert_types (code),
    issuing_dept   text REFERENCES sites (code),
    application_no text NOT NULL DEFAULT '',
    created_by     bigint REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    version        int NOT NULL DEFAULT 1, -- bumped by every state change (optimistic check)
    event_seq      int NOT NULL DEFAULT 1, -- seq of the newest event
    ready_since    timestamptz,
    hold_until     timestamptz,
    code_hash      bytea,
    last_action    text NOT NULL,
    last_site      text NOT NULL DEFAULT '',
    last_at        timestamptz NOT NULL,
    run_sealed     boolean NOT NULL DEFAULT false,
    journey_ended_at timestamptz,
    CHECK ((dest_kind = 'address') = (dest_site IS NULL)),
    CHECK (path_idx >= 0 AND path_idx < cardinality(path))
);
-- Few indexes: every scan updates the row. Lists by site use the path
-- (which holds the destination); jobs add partial indexes of their own.
CREATE INDEX parcels_origin ON parcels (origin_site, id);
CREATE INDEX parcels_path ON parcels USING gin (path);
CREATE INDEX parcels_application_no ON parcels (application_no) WHERE application_no <> '';

-- Personal data, apart from the event log so that it can be purged after the
-- journey ends while the log stays whole. ID numbers are never stored in
-- clear: a keyed hash to match at the counter, and AES-GCM ciphertext.
CREATE TABLE parcel_people (
    parcel_id      bigint PRIMARY KEY REFERENCES parcels (id),
    applicant_type text NOT NULL CHECK (applicant_type IN ('natural', 'legal')),
    name           text NOT NULL,
    contact_name   text NOT NULL DEFAULT '',
    phone          text NOT NULL,
    id_type        text NOT NULL,
    id_hash        bytea NOT NULL,
    id_enc         bytea NOT NULL,
    id_tail        text NOT NULL DEFAULT '',
    address        jsonb,
    cert_no_enc    bytea,
    notes          text NOT NULL DEFAULT '',
    purged_at      timestamptz
);
CREATE INDEX parcel_people_phone ON parcel_people (phone);

-- People at a handover (a proxy who collects): personal, purgeable.
CREATE TABLE handover_people (
    parcel_id      bigint NOT NULL REFERENCES parcels (id),
    event_seq      int NOT NULL,
    name           text NOT NULL,
    id_type        text NOT NULL,
    id_hash        bytea NOT NULL,
    id_enc         bytea NOT NULL,
    authorisation  text NOT NULL DEFAULT '',
    PRIMARY KEY (parcel_id, event_seq)
);

-- The event ledger: append-only, ids and codes only.
CREATE TABLE events (
    parcel_id     bigint NOT NULL REFERENCES parcels (id),
    seq           int NOT NULL,
    action        text NOT NULL,
    status_before text,
    status_after  text NOT NULL,
    site_code     text NOT NULL DEFAULT '',
    actor_id      bigint REFERENCES users (id),
    actor_role    text NOT NULL,
    source        text NOT NULL CHECK (source IN ('scan', 'web', 'api', 'courier', 'schedule')),
    device        text NOT NULL DEFAULT '',
    scan_id       text,
    device_time   timestamptz,
    server_time   timestamptz NOT NULL,
    run_id        text,
    bag_id        text,
    leg_id        text,
    reason        text NOT NULL DEFAULT '',
    detail        jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (parcel_id, seq)
);
CREATE INDEX events_actor ON events (actor_id, parcel_id);
CREATE INDEX events_server_time ON events (server_time);

-- +goose StatementBegin
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- What each scan id answered, so that a repeat answers the same.
CREATE TABLE scan_results (
    scan_id      text PRIMARY KEY,
    request_hash bytea NOT NULL,
    parcel_id    bigint NOT NULL,
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL
);

-- Outbox: messages written in the same transaction as the change that causes
-- them, delivered after commit. The payload (which may hold a collection
-- code) is encrypted; payload_masked is what operators see.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parcel_id       bigint NOT NULL REFERENCES parcels (id),
    event_seq       int NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('sms')),
    template        text NOT NULL,
    payload_enc     bytea NOT NULL,
    payload_masked  jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    sent_at         timestamptz,
    provider_ref    text NOT NULL DEFAULT '',
    last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_parcel ON outbox (parcel_id);

-- Failed public track lookups per client, shared by every instance.
CREATE TABLE track_failures (
    client_key   text NOT NULL,
    window_start timestamptz NOT NULL,
    failures     int NOT NULL,
    PRIMARY KEY (client_key, window_start)
);

-- +goose Down
DROP TABLE track_failures;
DROP TABLE outbox;
DROP TABLE scan_results;
DROP TABLE events;
DROP FUNCTION events_append_only();
DROP TABLE handover_people;
DROP TABLE parcel_people;
DROP TABLE parcels;
DROP TABLE transition_rules;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE cert_types;
DROP TABLE sites;
