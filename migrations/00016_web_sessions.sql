-- +goose Up
-- A browser's session is a token like an API token (hashed, ended with its
-- user's other tokens when the account is disabled, reset or changes its
-- password), kept in this table so that any instance serves any page. It
-- also ends after idle_until, which each use moves on; API tokens have none.
ALTER TABLE api_tokens ADD COLUMN idle_until timestamptz;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN idle_until;
