-- +goose Up
-- A ready parcel reported as an exception (damaged on the shelf, …) keeps
-- its collection code and may be resolved back to ready with it: the code
-- stays its own meanwhile, so no other shelve at the hall draws it.
DROP INDEX parcels_ready_code;
CREATE UNIQUE INDEX parcels_ready_code ON parcels ((path[path_idx + 1]), code_hash)
    WHERE status IN ('ready', 'exception');

-- +goose Down
DROP INDEX parcels_ready_code;
CREATE UNIQUE INDEX parcels_ready_code ON parcels ((path[path_idx + 1]), code_hash) WHERE status = 'ready';
