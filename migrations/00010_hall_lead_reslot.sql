-- +goose Up
-- A hall lead has every right of its hall's staff, reslot (00008) included.
INSERT INTO transition_rules (action, from_status, to_status, role)
SELECT action, from_status, to_status, 'hall_lead' FROM transition_rules
WHERE role = 'staff' AND action = 'reslot'
ON CONFLICT DO NOTHING;

-- +goose Down
DELETE FROM transition_rules WHERE role = 'hall_lead' AND action = 'reslot';
