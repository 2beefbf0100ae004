-- +goose Up
-- Every call to the contracted courier's API as it went over the wire,
-- secrets removed by the carrier's package. The bodies hold personal data
-- (an express parcel's recipient), so they are kept encrypted and purged
-- with the parcel's personal data (the row stays: when, what, the outcome).
CREATE TABLE courier_exchanges (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    carrier      text NOT NULL,
    service      text NOT NULL,
    order_id     text NOT NULL DEFAULT '',
    run_id       bigint,
    parcel_id    bigint,
    started_at   timestamptz NOT NULL,
    took_ms      int NOT NULL CHECK (took_ms >= 0),
    http_status  int NOT NULL DEFAULT 0,
    outcome      text NOT NULL,
    request_enc  bytea,
    response_enc bytea,
    purged_at    timestamptz
);
CREATE INDEX courier_exchanges_order ON courier_exchanges (carrier, order_id, id);
CREATE INDEX courier_exchanges_parcel ON courier_exchanges (parcel_id) WHERE parcel_id IS NOT NULL AND purged_at IS NULL;

-- The route nodes the courier told us of, each once whether pushed or
-- queried (a push's node id is not in a query's answer: a node is its
-- waybill, time and code). Stored before the push is answered.
CREATE TABLE route_nodes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    carrier     text NOT NULL,
    node_id     text NOT NULL DEFAULT '',
    order_id    text NOT NULL,
    waybill_no  text NOT NULL,
    at          timestamptz NOT NULL,
    op_code     text NOT NULL,
    status      text NOT NULL DEFAULT '',
    stage       text NOT NULL CHECK (stage IN ('', 'collected', 'moving', 'out_for_delivery', 'signed', 'failed', 'returned')),
    remark      text NOT NULL DEFAULT '',
    via         text NOT NULL CHECK (via IN ('push', 'query')),
    received_at timestamptz NOT NULL,
    UNIQUE (carrier, waybill_no, at, op_code)
);
CREATE INDEX route_nodes_order ON route_nodes (carrier, order_id, at);

-- Both are records: nodes are only appended; an exchange is only emptied
-- by the purge.
REVOKE UPDATE, DELETE, TRUNCATE ON route_nodes FROM courier_service;
REVOKE DELETE, TRUNCATE ON courier_exchanges FROM courier_service;

-- +goose Down
DROP TABLE route_nodes;
DROP TABLE courier_exchanges;
