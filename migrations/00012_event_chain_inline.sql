-- +goose Up
-- The chain trigger computes the hash of migration 00005 (same encoding,
-- same result, checked by the tests against event_hash and Go) written out
-- inline: called with a whole row, event_hash(events, bytea) is not inlined,
-- and neither are event_hash_field and event_hash_micros inside plpgsql;
-- together they cost a scan about half its throughput (pgbench, 8 clients:
-- 2,200 TPS with the functions, 3,700 inline, 4,700 without a hash). The
-- functions stay for reading (checks, tests, the migration of old rows).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prev bytea;
BEGIN
    SELECT e.hash INTO prev FROM events e WHERE e.parcel_id = NEW.parcel_id AND e.seq < NEW.seq
    ORDER BY e.seq DESC LIMIT 1;
    NEW.hash := sha256(convert_to('courier.event.v1', 'UTF8')
        || CASE WHEN NEW.parcel_id::text IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.parcel_id::text, 'UTF8'))) || convert_to(NEW.parcel_id::text, 'UTF8') END
        || CASE WHEN NEW.seq::text IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.seq::text, 'UTF8'))) || convert_to(NEW.seq::text, 'UTF8') END
        || CASE WHEN NEW.action IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.action, 'UTF8'))) || convert_to(NEW.action, 'UTF8') END
        || CASE WHEN NEW.status_before IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.status_before, 'UTF8'))) || convert_to(NEW.status_before, 'UTF8') END
        || CASE WHEN NEW.status_after IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.status_after, 'UTF8'))) || convert_to(NEW.status_after, 'UTF8') END
        || CASE WHEN NEW.site_code IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.site_code, 'UTF8'))) || convert_to(NEW.site_code, 'UTF8') END
        || CASE WHEN NEW.actor_id::text IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.actor_id::text, 'UTF8'))) || convert_to(NEW.actor_id::text, 'UTF8') END
        || CASE WHEN NEW.actor_role IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.actor_role, 'UTF8'))) || convert_to(NEW.actor_role, 'UTF8') END
        || CASE WHEN NEW.source IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.source, 'UTF8'))) || convert_to(NEW.source, 'UTF8') END
        || CASE WHEN NEW.device IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.device, 'UTF8'))) || convert_to(NEW.device, 'UTF8') END
        || CASE WHEN NEW.scan_id IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.scan_id, 'UTF8'))) || convert_to(NEW.scan_id, 'UTF8') END
        || CASE WHEN (extract(epoch FROM NEW.device_time) * 1000000)::bigint::text IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to((extract(epoch FROM NEW.device_time) * 1000000)::bigint::text, 'UTF8'))) || convert_to((extract(epoch FROM NEW.device_time) * 1000000)::bigint::text, 'UTF8') END
        || CASE WHEN (extract(epoch FROM NEW.server_time) * 1000000)::bigint::text IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to((extract(epoch FROM NEW.server_time) * 1000000)::bigint::text, 'UTF8'))) || convert_to((extract(epoch FROM NEW.server_time) * 1000000)::bigint::text, 'UTF8') END
        || CASE WHEN NEW.run_id IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.run_id, 'UTF8'))) || convert_to(NEW.run_id, 'UTF8') END
        || CASE WHEN NEW.bag_id IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.bag_id, 'UTF8'))) || convert_to(NEW.bag_id, 'UTF8') END
        || CASE WHEN NEW.leg_id IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.leg_id, 'UTF8'))) || convert_to(NEW.leg_id, 'UTF8') END
        || CASE WHEN NEW.reason IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.reason, 'UTF8'))) || convert_to(NEW.reason, 'UTF8') END
        || CASE WHEN NEW.detail::text IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(octet_length(convert_to(NEW.detail::text, 'UTF8'))) || convert_to(NEW.detail::text, 'UTF8') END
        || CASE WHEN prev IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(length(prev)) || prev END);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- The head follows each event, after its statement (AFTER ROW triggers
-- fire at the end of the statement, so never on a row the statement is
-- still updating), to the parcel's newest event whatever the order of the
-- rows, and only where the statement did not set it already (a scan sets
-- it in the update of its parcel): reads by primary key, no second write of
-- the row. Row-level: a scan's statement pays no transition
-- table (about 9 % more scans a second).
-- +goose StatementBegin
CREATE FUNCTION events_head_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE parcels SET head_hash = NEW.hash
    WHERE id = NEW.parcel_id AND head_hash IS DISTINCT FROM NEW.hash
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.parcel_id = NEW.parcel_id AND e.seq > NEW.seq);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
DROP TRIGGER events_head ON events;
CREATE TRIGGER events_head AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_head_row();

-- +goose Down
DROP TRIGGER events_head ON events;
DROP FUNCTION events_head_row();
CREATE TRIGGER events_head AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_head();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
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
