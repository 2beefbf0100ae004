package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

type outboxMessage struct {
	Template string            `json:"template"`
	Params   map[string]string `json:"params"`
}

// secretParams are masked in what operators see.
var secretParams = map[string]bool{"code": true}

func (l *Ledger) enqueue(ctx context.Context, tx pgx.Tx, parcelID int64, seq int, m outboxMessage, now time.Time) error {
	plain, _ := json.Marshal(m)
	masked := map[string]any{"template": m.Template}
	mp := map[string]string{}
	for k, v := range m.Params {
		if secretParams[k] {
			v = "******"
		}
		mp[k] = v
	}
	masked["params"] = mp
	_, err := tx.Exec(ctx, `INSERT INTO outbox (parcel_id, event_seq, channel, template, payload_enc, payload_masked,
		created_at, next_attempt_at) VALUES ($1, $2, 'sms', $3, $4, $5, $6, $6)`,
		parcelID, seq, m.Template, l.Keys.Encrypt(plain, outboxAD(parcelID, seq)), masked, now)
	return err
}

func outboxAD(parcelID int64, seq int) []byte {
	return []byte("outbox:" + strconv.FormatInt(parcelID, 10) + ":" + strconv.Itoa(seq))
}

// Deliver sends up to limit due messages through n, each exactly once across
// instances (rows are claimed with FOR UPDATE SKIP LOCKED), and records a
// message_sent event for each. A failed send is retried with backoff.
func (l *Ledger) Deliver(ctx context.Context, n tracking.Notifier, limit int) (sent int, err error) {
	for sent < limit {
		done, err := l.deliverOne(ctx, n)
		if err != nil || !done {
			return sent, err
		}
		sent++
	}
	return sent, nil
}

func (l *Ledger) deliverOne(ctx context.Context, n tracking.Notifier) (bool, error) {
	found := false
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		now := l.now()
		var (
			id, parcelID  int64
			seq, attempts int
			enc           []byte
			waybill       string
			phone         *string
		)
		err := tx.QueryRow(ctx, `SELECT o.id, o.parcel_id, o.event_seq, o.attempts, o.payload_enc, p.waybill_no, pp.phone
			FROM outbox o JOIN parcels p ON p.id = o.parcel_id LEFT JOIN parcel_people pp ON pp.parcel_id = o.parcel_id
			WHERE o.channel = 'sms' AND o.sent_at IS NULL AND o.next_attempt_at <= $1
			ORDER BY o.next_attempt_at, o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED`, now).
			Scan(&id, &parcelID, &seq, &attempts, &enc, &waybill, &phone)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		plain, err := l.Keys.Decrypt(enc, outboxAD(parcelID, seq))
		if err != nil {
			return fmt.Errorf("outbox %d: %w", id, err)
		}
		var m outboxMessage
		if err := json.Unmarshal(plain, &m); err != nil {
			return fmt.Errorf("outbox %d: %w", id, err)
		}
		if phone == nil || *phone == "" {
			// Personal data purged: nothing to send to.
			_, err := tx.Exec(ctx, `UPDATE outbox SET sent_at = $2, last_error = 'no recipient' WHERE id = $1`, id, now)
			return err
		}
		ref, sendErr := n.Notify(ctx, tracking.Message{ID: id, ParcelID: parcelID, WaybillNo: waybill,
			Template: m.Template, Phone: *phone, Params: m.Params})
		if sendErr != nil {
			backoff := min(time.Duration(30<<min(attempts, 10))*time.Second, time.Hour)
			_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3
				WHERE id = $1`, id, now.Add(backoff), truncate(sendErr.Error(), 200))
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, sent_at = $2, provider_ref = $3,
			last_error = '' WHERE id = $1`, id, now, truncate(ref, 100)); err != nil {
			return err
		}
		return AppendNote(ctx, tx, parcelID, shipment.SystemActor, shipment.ActMessageSent, shipment.SourceSchedule,
			"", now, map[string]any{"template": m.Template, "outbox_id": id})
	})
	if err != nil {
		return false, fmt.Errorf("outbox: %w", err)
	}
	return found, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// Messages lists the newest outbox messages, codes and phones masked.
func (l *Ledger) Messages(ctx context.Context, waybill string, limit int) ([]tracking.OutboxEntry, error) {
	rows, err := l.Pool.Query(ctx, `SELECT o.id, p.waybill_no, o.template, coalesce(pp.phone, ''), o.payload_masked,
		o.created_at, o.sent_at, o.attempts, o.last_error
		FROM outbox o JOIN parcels p ON p.id = o.parcel_id LEFT JOIN parcel_people pp ON pp.parcel_id = o.parcel_id
		WHERE ($1 = '' OR p.waybill_no = $1) ORDER BY o.id DESC LIMIT $2`, waybill, limit)
	if err != nil {
		return nil, translate(err, "outbox")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tracking.OutboxEntry, error) {
		var e tracking.OutboxEntry
		err := r.Scan(&e.ID, &e.WaybillNo, &e.Template, &e.Phone, &e.Payload, &e.CreatedAt, &e.SentAt, &e.Attempts, &e.LastError)
		e.Phone = shipment.MaskPhoneScreen(e.Phone)
		e.CreatedAt = tracking.Local(e.CreatedAt)
		e.SentAt = tracking.LocalPtr(e.SentAt)
		return e, err
	})
	if err != nil {
		return nil, translate(err, "outbox")
	}
	return out, nil
}
