-- +goose Up
-- A message that can never be sent (its payload does not decrypt, its
-- template is unknown, the gateway refused it for good) is marked failed
-- with its error and left behind, so the messages behind it go on.
ALTER TABLE outbox ADD COLUMN failed_at timestamptz;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
-- Before this release the outbox called an SMS sent when no gateway existed
-- ("local-…" references): those texts never left the machine. They stay
-- behind as failed rather than go out late with codes renewed since.
UPDATE outbox SET failed_at = sent_at, sent_at = NULL,
    last_error = 'recorded without an SMS gateway; never sent'
    WHERE channel = 'sms' AND sent_at IS NOT NULL AND provider_ref LIKE 'local-%';

-- A check value of the service's keys (an HMAC of a fixed label under each
-- key, never the keys), stored at first start: the service refuses to start
-- with keys that do not match it.
CREATE TABLE key_check (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    id_hash_check bytea NOT NULL,
    data_check    bytea NOT NULL,
    created_at    timestamptz NOT NULL
);

-- Collection codes are hashed per hall and unique among the ready parcels
-- of a hall, so the counter finds a parcel by its code alone.
CREATE UNIQUE INDEX parcels_ready_code ON parcels ((path[path_idx + 1]), code_hash) WHERE status = 'ready';

-- Application numbers are unique per origin and kind: re-sending a
-- registration creates nothing new. reg_hash is a keyed hash of the
-- registration, to tell a repeat from a different body; it is personal
-- (it covers the ID number) and purged with the rest.
-- +goose StatementBegin
DO $$
DECLARE n int;
BEGIN
    SELECT count(*) INTO n FROM (SELECT 1 FROM parcels WHERE application_no <> ''
        GROUP BY origin_site, kind, application_no HAVING count(*) > 1) d;
    IF n > 0 THEN
        RAISE EXCEPTION '% application number(s) are registered more than once at the same origin and kind; resolve them before upgrading (SELECT origin_site, kind, application_no FROM parcels WHERE application_no <> '''' GROUP BY 1, 2, 3 HAVING count(*) > 1)', n;
    END IF;
END;
$$;
-- +goose StatementEnd
CREATE UNIQUE INDEX parcels_application_no_key ON parcels (origin_site, kind, application_no) WHERE application_no <> '';
ALTER TABLE parcel_people ADD COLUMN reg_hash bytea;

-- +goose Down
ALTER TABLE parcel_people DROP COLUMN reg_hash;
DROP INDEX parcels_application_no_key;
DROP INDEX parcels_ready_code;
DROP TABLE key_check;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL;
ALTER TABLE outbox DROP COLUMN failed_at;
