package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// NoGateway is the last_error of an SMS kept queued because no SMS gateway
// is configured.
const NoGateway = "no_gateway"

// Deliver handles up to limit due SMS, each exactly once across instances
// (rows are claimed with FOR UPDATE SKIP LOCKED). A message is called sent,
// with a message_sent event, only when the gateway accepted it. A message
// that cannot be decrypted or rendered, or that the gateway rejects for
// good, is marked failed with its error and the rest go on; a passing
// failure of the gateway is retried with backoff.
func (l *Ledger) Deliver(ctx context.Context, d tracking.Delivery, limit int) (tracking.DeliveryReport, error) {
	var rep tracking.DeliveryReport
	for rep.Handled() < limit {
		done, err := l.deliverOne(ctx, d, &rep)
		if err != nil || !done {
			return rep, err
		}
	}
	return rep, nil
}

func (l *Ledger) deliverOne(ctx context.Context, d tracking.Delivery, rep *tracking.DeliveryReport) (bool, error) {
	found := false
	var outcome *int
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		now := l.now()
		var (
			id, parcelID  int64
			seq, attempts int
			enc           []byte
			waybill       string
			phone         *string
		)
		// Without a gateway each message is looked at once (decrypted and
		// rendered, so a bad one is marked failed now) and then left queued.
		err := tx.QueryRow(ctx, `SELECT o.id, o.parcel_id, o.event_seq, o.attempts, o.payload_enc, p.waybill_no, pp.phone
			FROM outbox o JOIN parcels p ON p.id = o.parcel_id LEFT JOIN parcel_people pp ON pp.parcel_id = o.parcel_id
			WHERE o.channel = 'sms' AND o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1
			  AND ($2 OR o.last_error <> $3)
			ORDER BY o.next_attempt_at, o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED`, now, d.Gateway != nil, NoGateway).
			Scan(&id, &parcelID, &seq, &attempts, &enc, &waybill, &phone)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		fail := func(reason string) error {
			outcome = &rep.Failed
			_, err := tx.Exec(ctx, `UPDATE outbox SET failed_at = $2, last_error = $3 WHERE id = $1`,
				id, now, truncate(reason, 200))
			return err
		}
		plain, err := l.Keys.Decrypt(enc, outboxAD(parcelID, seq))
		if err != nil {
			return fail("payload does not decrypt: " + err.Error())
		}
		var m outboxMessage
		if err := json.Unmarshal(plain, &m); err != nil {
			return fail("payload does not decode: " + err.Error())
		}
		if phone == nil || *phone == "" {
			return fail("no recipient (personal data purged)")
		}
		if strings.HasPrefix(m.Template, "sms.") && m.Params["url"] == "" {
			// The parcel's private link, made at registration and never
			// changed: the citizen follows it without the phone tail.
			link, err := l.PrivateLink(ctx, parcelID)
			if err != nil {
				return err
			}
			if m.Params == nil {
				m.Params = map[string]string{}
			}
			m.Params["url"] = link
		}
		msg := tracking.Message{ID: id, ParcelID: parcelID, WaybillNo: waybill, Template: m.Template,
			Phone: *phone, Params: m.Params}
		if d.Render != nil {
			if err := d.Render(&msg); err != nil {
				return fail("does not render: " + err.Error())
			}
		}
		if d.Gateway == nil {
			outcome = &rep.Waiting
			_, err := tx.Exec(ctx, `UPDATE outbox SET last_error = $2 WHERE id = $1`, id, NoGateway)
			return err
		}
		ref, sendErr := d.Gateway.Notify(ctx, msg)
		if sendErr == nil && ref == "" {
			sendErr = errors.New("the gateway accepted the message without a reference")
		}
		if errors.Is(sendErr, tracking.ErrRejected) {
			_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1 WHERE id = $1`, id)
			if err != nil {
				return err
			}
			return fail(sendErr.Error())
		}
		if sendErr != nil {
			outcome = &rep.Retry
			backoff := min(time.Duration(30<<min(attempts, 10))*time.Second, time.Hour)
			_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3
				WHERE id = $1`, id, now.Add(backoff), truncate(sendErr.Error(), 200))
			return err
		}
		outcome = &rep.Sent
		if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, sent_at = $2, provider_ref = $3,
			last_error = '' WHERE id = $1`, id, now, truncate(ref, 100)); err != nil {
			return err
		}
		return AppendNote(ctx, tx, parcelID, shipment.SystemActor, shipment.ActMessageSent, shipment.SourceSchedule,
			"", now, map[string]any{"template": m.Template, "outbox_id": id, "provider_ref": truncate(ref, 100)})
	})
	if err != nil {
		return false, fmt.Errorf("outbox: %w", err)
	}
	if outcome != nil {
		*outcome++
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

// Messages lists the newest outbox messages, codes and phones masked. Each
// says whether it was sent (accepted by the gateway, or a site notice,
// delivered when written), failed (with its error) or is queued (with why:
// last_error, "no_gateway" while no SMS gateway is configured).
func (l *Ledger) Messages(ctx context.Context, waybill string, limit int) ([]tracking.OutboxEntry, error) {
	rows, err := l.Pool.Query(ctx, `SELECT o.id, p.waybill_no, o.channel, coalesce(o.site_code, ''), o.template,
		coalesce(pp.phone, ''), o.payload_masked, o.created_at, o.sent_at, o.failed_at, o.attempts, o.last_error,
		CASE WHEN o.sent_at IS NOT NULL THEN 'sent' WHEN o.failed_at IS NOT NULL THEN 'failed' ELSE 'queued' END
		FROM outbox o JOIN parcels p ON p.id = o.parcel_id LEFT JOIN parcel_people pp ON pp.parcel_id = o.parcel_id
		WHERE ($1 = '' OR p.waybill_no = $1) ORDER BY o.id DESC LIMIT $2`, waybill, limit)
	if err != nil {
		return nil, translate(err, "outbox")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tracking.OutboxEntry, error) {
		var e tracking.OutboxEntry
		err := r.Scan(&e.ID, &e.WaybillNo, &e.Channel, &e.Site, &e.Template, &e.Phone, &e.Payload, &e.CreatedAt,
			&e.SentAt, &e.FailedAt, &e.Attempts, &e.LastError, &e.Status)
		e.Phone = shipment.MaskPhoneScreen(e.Phone)
		if e.Channel != "sms" {
			e.Phone = "" // a notice to a site's staff, not to the citizen
		}
		e.CreatedAt = tracking.Local(e.CreatedAt)
		e.SentAt, e.FailedAt = tracking.LocalPtr(e.SentAt), tracking.LocalPtr(e.FailedAt)
		return e, err
	})
	if err != nil {
		return nil, translate(err, "outbox")
	}
	return out, nil
}
