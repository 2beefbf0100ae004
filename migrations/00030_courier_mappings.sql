-- +goose Up
-- A courier's event codes and names as the stages they tell, where the
-- courier publishes no table of its own (EMS): kept by administrators,
-- audited, seen by every instance within seconds.
CREATE TABLE courier_mappings (
    carrier    text PRIMARY KEY CHECK (carrier IN ('ems')),
    mapping    jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE courier_mappings;
