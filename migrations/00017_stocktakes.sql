-- +goose Up
-- A hall's stocktakes (盘点): what its shelves should have held, what was
-- seen, and what was missing, unexpected or in the wrong slot. Waybill
-- numbers and slots only: nothing personal.
CREATE TABLE stocktakes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_code  text NOT NULL REFERENCES sites (code),
    actor_id   bigint REFERENCES users (id),
    created_at timestamptz NOT NULL,
    result     jsonb NOT NULL
);
CREATE INDEX stocktakes_site ON stocktakes (site_code, id);

-- +goose Down
DROP TABLE stocktakes;
