-- +goose Up
-- A scan changes a parcel's status, and status stood in the predicates of
-- three partial indexes (waiting, ready, ready_code): so every scan was an
-- update that PostgreSQL cannot make in place (not HOT), writing a new
-- entry into all ten indexes of parcels, unchanged keys included.
--
-- What those indexes select is now kept in generated columns, computed by
-- PostgreSQL in the statement that changes the row (no trigger, no writer
-- can forget it), and the indexes are over those columns alone. A scan
-- whose generated values stay the same (a pickup, in a run or not) leaves
-- every indexed column as it was, and with room on the page (fillfactor) the new version goes
-- beside the old one with no index written.
--
-- The ready and ready_code indexes mean what they meant; the waiting index
-- holds a few more rows (moving, in exception), which the run's query
-- passes over. The queries that used them read the generated columns. An older release's queries still give the same
-- answers on this schema (without these indexes), and the unique index
-- keeps its name, so its conflict is recognised as before.
ALTER TABLE parcels SET (fillfactor = 80);

ALTER TABLE parcels
    -- The leg ahead of a parcel on its way and in no run (parcels_waiting):
    -- a run takes those of them in a state it takes from and not moving,
    -- a test on the row. Status and leg_moving stay out of the key, so
    -- that a pickup (run or no run) changes nothing indexed.
    ADD COLUMN wait_from text GENERATED ALWAYS AS (CASE
        WHEN current_run IS NULL AND journey_ended_at IS NULL AND path_idx + 1 < cardinality(path)
        THEN path[path_idx + 1] END) STORED,
    ADD COLUMN wait_to text GENERATED ALWAYS AS (CASE
        WHEN current_run IS NULL AND journey_ended_at IS NULL AND path_idx + 1 < cardinality(path)
        THEN path[path_idx + 2] END) STORED,
    -- Since when a parcel is ready (parcels_ready).
    ADD COLUMN ready_at timestamptz GENERATED ALWAYS AS (CASE WHEN status = 'ready' THEN ready_since END) STORED,
    -- The hall whose collection code the parcel holds: on the shelf, or in
    -- exception from it and able to return with its code (parcels_ready_code).
    ADD COLUMN code_site text GENERATED ALWAYS AS (CASE
        WHEN status IN ('ready', 'exception') THEN path[path_idx + 1] END) STORED;

DROP INDEX parcels_waiting;
CREATE INDEX parcels_waiting ON parcels (wait_from, wait_to) WHERE wait_from IS NOT NULL;
DROP INDEX parcels_ready;
CREATE INDEX parcels_ready ON parcels (ready_at) WHERE ready_at IS NOT NULL;
DROP INDEX parcels_ready_code;
CREATE UNIQUE INDEX parcels_ready_code ON parcels (code_site, code_hash) WHERE code_site IS NOT NULL;

-- +goose Down
DROP INDEX parcels_ready_code;
CREATE UNIQUE INDEX parcels_ready_code ON parcels ((path[path_idx + 1]), code_hash)
    WHERE status IN ('ready', 'exception');
DROP INDEX parcels_ready;
CREATE INDEX parcels_ready ON parcels (ready_since) WHERE status = 'ready';
DROP INDEX parcels_waiting;
CREATE INDEX parcels_waiting ON parcels ((path[path_idx + 1]), (path[path_idx + 2]))
    WHERE current_run IS NULL AND status IN ('registered', 'awaiting_pickup', 'arrived', 'returning') AND NOT leg_moving;
ALTER TABLE parcels DROP COLUMN code_site, DROP COLUMN ready_at, DROP COLUMN wait_to, DROP COLUMN wait_from;
ALTER TABLE parcels RESET (fillfactor);
