-- +goose Up
-- A hash chain per parcel over the event log. Every event carries
-- hash = SHA-256 of a fixed list of its columns and the previous event's hash
-- of the same parcel; parcels.head_hash keeps the newest. A BEFORE INSERT
-- trigger computes the hash, so every writer (set-based statements, an older
-- release during a rolling upgrade) gets it right, and a hash a writer
-- supplies is overwritten. internal/ledgercheck recomputes the same in Go;
-- the encoding is documented there and must not change (a new encoding gets a
-- new version tag).
--
-- Encoding: the tag 'courier.event.v1', then each field in this order, as
-- 0x00 for NULL or 0x01, its length in bytes (4 bytes, big-endian) and its
-- UTF-8 text: parcel_id, seq, action, status_before, status_after, site_code,
-- actor_id, actor_role, source, device, scan_id, device_time, server_time,
-- run_id, bag_id, leg_id, reason, detail, previous hash. Numbers are decimal
-- text, times microseconds since the Unix epoch (decimal), detail is
-- PostgreSQL's jsonb text (keys in jsonb order), the previous hash its 32 raw
-- bytes (NULL for a parcel's first event).
ALTER TABLE events ADD COLUMN hash bytea;
ALTER TABLE parcels ADD COLUMN head_hash bytea;

CREATE FUNCTION event_hash_field(v text) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN v IS NULL THEN '\x00'::bytea
        ELSE '\x01'::bytea || int4send(octet_length(convert_to(v, 'UTF8'))) || convert_to(v, 'UTF8') END;

CREATE FUNCTION event_hash_micros(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (extract(epoch FROM t) * 1000000)::bigint::text;

-- event_hash is the hash of event e chained to prev (the previous event's hash).
CREATE FUNCTION event_hash(e events, prev bytea) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN sha256(convert_to('courier.event.v1', 'UTF8')
        || event_hash_field(e.parcel_id::text) || event_hash_field(e.seq::text)
        || event_hash_field(e.action) || event_hash_field(e.status_before) || event_hash_field(e.status_after)
        || event_hash_field(e.site_code) || event_hash_field(e.actor_id::text) || event_hash_field(e.actor_role)
        || event_hash_field(e.source) || event_hash_field(e.device) || event_hash_field(e.scan_id)
        || event_hash_field(event_hash_micros(e.device_time)) || event_hash_field(event_hash_micros(e.server_time))
        || event_hash_field(e.run_id) || event_hash_field(e.bag_id) || event_hash_field(e.leg_id)
        || event_hash_field(e.reason) || event_hash_field(e.detail::text)
        || CASE WHEN prev IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(length(prev)) || prev END);

-- Existing events, chained in seq order per parcel (the append-only trigger
-- is off for this one statement of the migration's transaction).
ALTER TABLE events DISABLE TRIGGER events_no_update;
WITH RECURSIVE c AS (
    SELECT e.parcel_id, e.seq, event_hash(e, NULL) AS hash FROM events e
    WHERE e.seq = (SELECT min(x.seq) FROM events x WHERE x.parcel_id = e.parcel_id)
    UNION ALL
    SELECT n.parcel_id, n.seq, event_hash(n, c.hash) FROM c
    CROSS JOIN LATERAL (SELECT * FROM events n WHERE n.parcel_id = c.parcel_id AND n.seq > c.seq
        ORDER BY n.seq LIMIT 1) n)
UPDATE events e SET hash = c.hash FROM c WHERE e.parcel_id = c.parcel_id AND e.seq = c.seq;
ALTER TABLE events ENABLE TRIGGER events_no_update;
UPDATE parcels p SET head_hash = h.hash
FROM (SELECT DISTINCT ON (parcel_id) parcel_id, hash FROM events ORDER BY parcel_id, seq DESC) h
WHERE p.id = h.parcel_id;
ALTER TABLE events ALTER COLUMN hash SET NOT NULL;

-- The previous event is read by primary key (the newest seq below this one):
-- rows inserted earlier by the same statement are visible to a row-level
-- BEFORE trigger, and the parcel's row is already locked by the writer.
-- +goose StatementBegin
CREATE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prev bytea;
BEGIN
    SELECT e.hash INTO prev FROM events e WHERE e.parcel_id = NEW.parcel_id AND e.seq < NEW.seq
    ORDER BY e.seq DESC LIMIT 1;
    NEW.hash := event_hash(NEW, prev);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER events_chain BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_chain();

-- parcels.head_hash follows at the end of each statement, set-based: a
-- statement-level AFTER trigger runs after the whole statement (a CTE that
-- updates the parcel and appends its event included), so it never updates a
-- row the statement itself is still updating.
-- +goose StatementBegin
CREATE FUNCTION events_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE parcels p SET head_hash = n.hash
    FROM (SELECT DISTINCT ON (parcel_id) parcel_id, hash FROM new_events ORDER BY parcel_id, seq DESC) n
    WHERE p.id = n.parcel_id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER events_head AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_head();

-- The daily digests: digest = SHA-256(previous digest ‖ the day's heads, each
-- the hash of a parcel's newest event of the day (server_time in that day,
-- Beijing time), sorted bytewise). Signed with Ed25519 when a key is set.
-- Append-only like the events.
CREATE TABLE ledger_digests (
    day         date PRIMARY KEY,
    prev_digest bytea,
    digest      bytea NOT NULL,
    heads       int NOT NULL,
    signature   bytea,
    public_key  bytea,
    created_at  timestamptz NOT NULL
);
CREATE TRIGGER ledger_digests_no_update BEFORE UPDATE OR DELETE ON ledger_digests
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER ledger_digests_no_truncate BEFORE TRUNCATE ON ledger_digests
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- Checks an admin started in the background, with their result.
CREATE TABLE verify_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requested_by text NOT NULL,
    scope       jsonb NOT NULL,
    status      text NOT NULL CHECK (status IN ('queued', 'running', 'clean', 'broken', 'failed')),
    result      jsonb,
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    finished_at timestamptz
);

-- Least privilege. The service serves as a member of courier_service, which
-- may read and write the tables but only INSERT and SELECT the append-only
-- ones, and owns nothing: it cannot alter, disable or drop their triggers.
-- Migrations run as the owner. The role is created here when missing (the
-- owner then needs CREATEROLE; otherwise create it beforehand); tables that
-- later migrations create get the same rights by default.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'courier_service') THEN
        CREATE ROLE courier_service NOLOGIN;
    END IF;
END;
$$;
-- +goose StatementEnd
GRANT USAGE ON SCHEMA public TO courier_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO courier_service;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO courier_service;
REVOKE UPDATE, DELETE, TRUNCATE ON events, ledger_digests FROM courier_service;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON goose_db_version FROM courier_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO courier_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO courier_service;

-- +goose Down
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM courier_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM courier_service;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM courier_service;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM courier_service;
REVOKE USAGE ON SCHEMA public FROM courier_service;
DROP TABLE verify_runs;
DROP TABLE ledger_digests;
DROP TRIGGER events_head ON events;
DROP FUNCTION events_head();
DROP TRIGGER events_chain ON events;
DROP FUNCTION events_chain();
DROP FUNCTION event_hash(events, bytea);
DROP FUNCTION event_hash_micros(timestamptz);
DROP FUNCTION event_hash_field(text);
ALTER TABLE parcels DROP COLUMN head_hash;
ALTER TABLE events DROP COLUMN hash;
