-- +goose Up
-- Recall (召回): a parcel returning to its department that is still at its
-- hall goes back on the shelf for a citizen who came late (shipment.Rules).
INSERT INTO transition_rules (action, from_status, to_status, role) VALUES
    ('recall', 'returning', 'ready', 'admin'),
    ('recall', 'returning', 'ready', 'staff'),
    ('recall', 'returning', 'ready', 'hall_lead')
ON CONFLICT DO NOTHING;

-- +goose Down
DELETE FROM transition_rules WHERE action = 'recall';
