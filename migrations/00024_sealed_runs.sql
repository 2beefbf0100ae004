-- +goose Up
-- The hall's shelf list finds the parcels of its sealed runs not yet
-- picked up (returning parcels still to be pulled and bagged). A run is
-- sealed for hours at most, so the index stays small; its status changes
-- twice in a run's life.
CREATE INDEX runs_sealed ON runs (from_site) WHERE status = 'sealed';

-- +goose Down
DROP INDEX runs_sealed;
