-- +goose Up
-- Like the events, the audit log and the keys' check values are only ever
-- appended to: the service's role may read and insert them, nothing more
-- (their triggers, where they have them, stop the owner too).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, key_check FROM courier_service;

-- +goose Down
GRANT UPDATE, DELETE ON audit_log, key_check TO courier_service;
