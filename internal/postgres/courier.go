package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/tracking"
)

var _ service.CourierStore = (*Ledger)(nil)

// exchangeAD binds an exchange's encrypted bodies to their row's purpose.
func exchangeAD(part string) []byte { return []byte("courier_exchange:" + part) }

// RecordExchange keeps one call to a courier's API, its bodies encrypted.
func (l *Ledger) RecordExchange(ctx context.Context, x tracking.CourierExchange) error {
	var runID, parcelID *int64
	if x.RunID != 0 {
		runID = &x.RunID
	}
	if x.ParcelID != 0 {
		parcelID = &x.ParcelID
	}
	_, err := l.Pool.Exec(ctx, `INSERT INTO courier_exchanges (carrier, service, order_id, run_id, parcel_id, started_at,
		took_ms, http_status, outcome, request_enc, response_enc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		x.Carrier, x.Service, x.OrderID, runID, parcelID, x.Started.UTC(), x.Took.Milliseconds(), x.Status, x.Outcome,
		l.Keys.Encrypt(x.Request, exchangeAD("request")), l.Keys.Encrypt(x.Response, exchangeAD("response")))
	return translate(err, "courier_exchange")
}

// Exchanges lists the calls about one order, oldest first, their bodies
// decrypted (empty once purged).
func (l *Ledger) Exchanges(ctx context.Context, carrier, orderID string) ([]tracking.CourierExchange, error) {
	rows, err := l.Pool.Query(ctx, `SELECT service, coalesce(run_id, 0), coalesce(parcel_id, 0), started_at, took_ms,
		http_status, outcome, request_enc, response_enc FROM courier_exchanges WHERE carrier = $1 AND order_id = $2 ORDER BY id`,
		carrier, orderID)
	if err != nil {
		return nil, translate(err, "courier_exchange")
	}
	defer rows.Close()
	var out []tracking.CourierExchange
	for rows.Next() {
		x := tracking.CourierExchange{Carrier: carrier, OrderID: orderID}
		var ms int64
		var req, resp []byte
		if err := rows.Scan(&x.Service, &x.RunID, &x.ParcelID, &x.Started, &ms, &x.Status, &x.Outcome, &req, &resp); err != nil {
			return nil, translate(err, "courier_exchange")
		}
		x.Took = time.Duration(ms) * time.Millisecond
		for _, b := range []struct {
			enc  []byte
			to   *[]byte
			part string
		}{{req, &x.Request, "request"}, {resp, &x.Response, "response"}} {
			if b.enc == nil {
				continue
			}
			plain, err := l.Keys.Decrypt(b.enc, exchangeAD(b.part))
			if err != nil {
				return nil, err
			}
			*b.to = plain
		}
		out = append(out, x)
	}
	return out, translate(rows.Err(), "courier_exchange")
}

// SaveRouteNodes keeps the nodes not kept before (by carrier, waybill,
// time and code) and returns those that were new, in the order given.
func (l *Ledger) SaveRouteNodes(ctx context.Context, nodes []tracking.RouteNode) ([]tracking.RouteNode, error) {
	var fresh []tracking.RouteNode
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		fresh = fresh[:0]
		for _, n := range nodes {
			tag, err := tx.Exec(ctx, `INSERT INTO route_nodes (carrier, node_id, order_id, waybill_no, at, op_code, status,
				stage, remark, via, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (carrier, waybill_no, at, op_code) DO NOTHING`,
				n.Carrier, n.NodeID, n.OrderID, n.WaybillNo, n.At.UTC(), n.OpCode, n.Status, string(n.Stage), n.Remark, n.Via,
				n.ReceivedAt.UTC())
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				fresh = append(fresh, n)
			}
		}
		return nil
	})
	return fresh, translate(err, "route_node")
}

// RouteNodes lists an order's nodes in time order, each once.
func (l *Ledger) RouteNodes(ctx context.Context, carrier, orderID string) ([]tracking.RouteNode, error) {
	rows, err := l.Pool.Query(ctx, `SELECT node_id, waybill_no, at, op_code, status, stage, remark, via, received_at
		FROM route_nodes WHERE carrier = $1 AND order_id = $2 ORDER BY at, id`, carrier, orderID)
	if err != nil {
		return nil, translate(err, "route_node")
	}
	defer rows.Close()
	var out []tracking.RouteNode
	for rows.Next() {
		n := tracking.RouteNode{Carrier: carrier, OrderID: orderID}
		var stage string
		if err := rows.Scan(&n.NodeID, &n.WaybillNo, &n.At, &n.OpCode, &n.Status, &stage, &n.Remark, &n.Via, &n.ReceivedAt); err != nil {
			return nil, translate(err, "route_node")
		}
		n.Stage = tracking.CourierStage(stage)
		out = append(out, n)
	}
	return out, translate(rows.Err(), "route_node")
}
