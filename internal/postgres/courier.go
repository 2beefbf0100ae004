package postgres

import (
	"context"
	"time"

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
// time and code) and returns those that were new, in the order given: one
// statement for the lot.
func (l *Ledger) SaveRouteNodes(ctx context.Context, nodes []tracking.RouteNode) ([]tracking.RouteNode, error) {
	n := len(nodes)
	carrier, nodeID, order, waybill := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	at, received := make([]time.Time, n), make([]time.Time, n)
	code, status, stage, remark, via := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, x := range nodes {
		carrier[i], nodeID[i], order[i], waybill[i], at[i] = x.Carrier, x.NodeID, x.OrderID, x.WaybillNo, x.At.UTC()
		code[i], status[i], stage[i], remark[i], via[i], received[i] = x.OpCode, x.Status, string(x.Stage), x.Remark, x.Via, x.ReceivedAt.UTC()
	}
	rows, err := l.Pool.Query(ctx, `INSERT INTO route_nodes (carrier, node_id, order_id, waybill_no, at, op_code, status,
		stage, remark, via, received_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::timestamptz[])
		ON CONFLICT (carrier, waybill_no, at, op_code) DO NOTHING
		RETURNING carrier, waybill_no, at, op_code`,
		carrier, nodeID, order, waybill, at, code, status, stage, remark, via, received)
	if err != nil {
		return nil, translate(err, "route_node")
	}
	type key struct {
		carrier, waybill, code string
		at                     int64
	}
	kept := map[key]bool{}
	for rows.Next() {
		var k key
		var t time.Time
		if err := rows.Scan(&k.carrier, &k.waybill, &t, &k.code); err != nil {
			rows.Close()
			return nil, translate(err, "route_node")
		}
		k.at = t.UnixMicro()
		kept[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "route_node")
	}
	var fresh []tracking.RouteNode
	for _, x := range nodes {
		k := key{x.Carrier, x.WaybillNo, x.OpCode, x.At.UnixMicro()}
		if kept[k] {
			fresh = append(fresh, x)
			delete(kept, k) // a node given twice is new once
		}
	}
	return fresh, nil
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
