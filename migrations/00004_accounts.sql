-- +goose Up
-- Accounts that can be cut off and reset, and the role hall_lead (a hall's
-- supervisor: staff rights at its own hall, plus its corrections and reports).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'clerk', 'staff', 'hall_lead', 'courier', 'api_client'));
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_check
    CHECK ((role IN ('clerk', 'staff', 'hall_lead')) = (site_code IS NOT NULL));
-- Set by an administrator's password reset: signing in then needs a new password.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- hall_lead has every staff right (shipment.Rules; a test keeps them equal).
INSERT INTO transition_rules (action, from_status, to_status, role)
SELECT action, from_status, to_status, 'hall_lead' FROM transition_rules WHERE role = 'staff';

-- +goose Down
DELETE FROM transition_rules WHERE role = 'hall_lead';
ALTER TABLE users DROP COLUMN updated_at;
ALTER TABLE users DROP COLUMN must_change_password;
-- The release before knows no hall leads: they keep their hall's staff rights.
UPDATE users SET role = 'staff' WHERE role = 'hall_lead';
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_check CHECK ((role IN ('clerk', 'staff')) = (site_code IS NOT NULL));
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'clerk', 'staff', 'courier', 'api_client'));
