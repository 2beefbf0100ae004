-- +goose Up
-- A bulk import's preview, kept until the clerk chooses (any instance shows
-- it and registers it). Its rows, which hold personal data, are ciphertext
-- bound to the draft; the result holds waybill numbers only. Expired drafts
-- are deleted when the next one is saved.
CREATE TABLE import_drafts (
    id         text PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    site       text NOT NULL DEFAULT '',
    file_name  text NOT NULL,
    encoding   text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('certificate', 'materials')),
    total      int NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    rows_enc   bytea NOT NULL,
    result     jsonb,
    chosen_at  timestamptz
);
CREATE INDEX import_drafts_expires ON import_drafts (expires_at);

-- +goose Down
DROP TABLE import_drafts;
