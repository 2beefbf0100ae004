-- +goose Up
-- Staff reads of personal data that a search made: who searched, when,
-- by what (a name, a phone, a phone's last digits; a waybill for a
-- record opened by its number, such as a proxy's authorisation) and which parcels it
-- showed. The searched text is not kept (it is itself personal data);
-- waybill numbers only. Appended only: the service's role may read and
-- insert, nothing more.
CREATE TABLE personal_reads (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL,
    actor_id       bigint REFERENCES users (id),
    actor_username text NOT NULL,
    actor_role     text NOT NULL,
    site           text NOT NULL DEFAULT '',
    purpose        text NOT NULL CHECK (purpose ~ '^[a-z][a-z_]{1,31}$'),
    matched_by     text NOT NULL CHECK (matched_by IN ('name', 'phone', 'phone_tail', 'waybill')),
    waybills       text[] NOT NULL
);
CREATE INDEX personal_reads_at ON personal_reads (at);
CREATE INDEX personal_reads_actor ON personal_reads (actor_id, id);
REVOKE UPDATE, DELETE, TRUNCATE ON personal_reads FROM courier_service;

-- +goose Down
DROP TABLE personal_reads;
