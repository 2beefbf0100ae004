-- +goose Up
-- Settings every instance sees: each kind of administrator-edited data has a
-- version, bumped in the transaction of every edit. Each instance polls this
-- small table (one tiny query a second) and reloads what changed, so an edit
-- on one instance reaches all of them within seconds. Kinds are added by
-- the code that first bumps them (INSERT … ON CONFLICT), not listed here.
CREATE TABLE settings_version (
    entity     text PRIMARY KEY CHECK (entity ~ '^[a-z][a-z_]{1,31}$'),
    version    bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO settings_version (entity) VALUES ('site'), ('route'), ('calendar'), ('job'), ('user');

-- Every administrator's change: who, when, what, and the record before and
-- after (jsonb; never password hashes or citizens' personal data). Written in
-- the transaction of the change; append-only like events.
CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL,
    actor_id       bigint,
    actor_username text NOT NULL,
    actor_role     text NOT NULL,
    entity         text NOT NULL CHECK (entity ~ '^[a-z][a-z_]{1,31}$'),
    entity_key     text NOT NULL CHECK (length(entity_key) BETWEEN 1 AND 200),
    action         text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    before         jsonb,
    after          jsonb,
    CHECK (before IS NOT NULL OR after IS NOT NULL)
);
CREATE INDEX audit_log_entity ON audit_log (entity, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Hall settings on the site: quiet hours for SMS (Beijing time of day; a
-- window may run past midnight, 21:00–08:00) and the text of the hall's
-- notice board. Nullable or defaulted, so the previous release still runs.
ALTER TABLE sites
    ADD COLUMN quiet_start time(0),
    ADD COLUMN quiet_end   time(0),
    ADD COLUMN notice_zh   text NOT NULL DEFAULT '' CHECK (char_length(notice_zh) <= 200),
    ADD COLUMN notice_en   text NOT NULL DEFAULT '' CHECK (char_length(notice_en) <= 200),
    ADD CONSTRAINT sites_quiet_hours CHECK ((quiet_start IS NULL) = (quiet_end IS NULL)
        AND (quiet_start IS NULL OR quiet_start <> quiet_end));

-- +goose Down
ALTER TABLE sites DROP CONSTRAINT sites_quiet_hours, DROP COLUMN notice_en, DROP COLUMN notice_zh,
    DROP COLUMN quiet_end, DROP COLUMN quiet_start;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE settings_version;
