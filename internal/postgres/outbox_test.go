package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// gateway is a fake SMS gateway: it accepts, or answers err.
type gateway struct {
	mu   sync.Mutex
	err  error
	got  []tracking.Message
	refs int
}

func (g *gateway) Notify(_ context.Context, m tracking.Message) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got = append(g.got, m)
	if g.err != nil {
		return "", g.err
	}
	g.refs++
	return fmt.Sprintf("gw-%d", g.refs), nil
}

// knownTemplates renders the two SMS templates and refuses any other.
func knownTemplates(m *tracking.Message) error {
	if m.Template != "sms.ready" && m.Template != "sms.reminder" {
		return fmt.Errorf("unknown SMS template %q", m.Template)
	}
	m.Text = m.Template + " " + m.Params["code"]
	return nil
}

// ready registers a parcel for CC-WIN and brings it to ready (which queues
// its ready SMS).
func (b *bundle) ready(t *testing.T) string {
	t.Helper()
	no := b.register(t, certReg()).WaybillNo
	b.mustScan(t, "courier", no, shipment.ActPickup, "D-SW", shipment.InTransit)
	b.mustScan(t, "staff", no, shipment.ActReceive, "CC-WIN", shipment.Arrived)
	b.mustScan(t, "staff", no, shipment.ActShelve, "CC-WIN", shipment.Ready)
	return no
}

func (b *bundle) outboxRow(t *testing.T, waybill string) (id int64, sent, failed bool, lastErr string) {
	t.Helper()
	err := b.pool.QueryRow(b.ctx, `SELECT o.id, o.sent_at IS NOT NULL, o.failed_at IS NOT NULL, o.last_error
		FROM outbox o JOIN parcels p ON p.id = o.parcel_id WHERE p.waybill_no = $1 AND o.channel = 'sms'
		ORDER BY o.id DESC LIMIT 1`, waybill).Scan(&id, &sent, &failed, &lastErr)
	if err != nil {
		t.Fatal(err)
	}
	return id, sent, failed, lastErr
}

func (b *bundle) messageSentEvents(t *testing.T, waybill string) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM events e JOIN parcels p ON p.id = e.parcel_id
		WHERE p.waybill_no = $1 AND e.action = 'message_sent'`, waybill).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A message that does not decrypt and one whose template is unknown sit
// ahead of good ones: they are marked failed with their error, and the good
// ones behind them are delivered.
func TestPoisonedMessagesDoNotStopTheRest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	nos := []string{b.ready(t), b.ready(t), b.ready(t), b.ready(t)}

	// The first does not decrypt (a payload sealed with other keys).
	id0, _, _, _ := b.outboxRow(t, nos[0])
	if _, err := b.pool.Exec(b.ctx, `UPDATE outbox SET payload_enc = decode(repeat('ab', 60), 'hex') WHERE id = $1`, id0); err != nil {
		t.Fatal(err)
	}
	// The second decrypts, but names a template nothing can render.
	id1, _, _, _ := b.outboxRow(t, nos[1])
	var parcelID int64
	var seq int
	if err := b.pool.QueryRow(b.ctx, `SELECT parcel_id, event_seq FROM outbox WHERE id = $1`, id1).Scan(&parcelID, &seq); err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(map[string]any{"template": "sms.gone", "params": map[string]string{"code": "123456"}})
	enc := b.ledger.Keys.Encrypt(plain, []byte(fmt.Sprintf("outbox:%d:%d", parcelID, seq)))
	if _, err := b.pool.Exec(b.ctx, `UPDATE outbox SET payload_enc = $2 WHERE id = $1`, id1, enc); err != nil {
		t.Fatal(err)
	}

	gw := &gateway{}
	rep, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: gw, Render: knownTemplates}, 100)
	if err != nil {
		t.Fatalf("deliver: %v (%+v)", err, rep)
	}
	if rep.Sent != 2 || rep.Failed != 2 {
		t.Fatalf("report %+v, want 2 sent and 2 failed", rep)
	}
	if len(gw.got) != 2 || gw.got[0].WaybillNo != nos[2] || gw.got[1].WaybillNo != nos[3] {
		t.Fatalf("gateway got %+v", gw.got)
	}
	if !strings.HasPrefix(gw.got[0].Text, "sms.ready ") {
		t.Fatalf("text not rendered: %q", gw.got[0].Text)
	}
	for i, want := range []string{"does not decrypt", "does not render"} {
		_, sent, failed, lastErr := b.outboxRow(t, nos[i])
		if sent || !failed || !strings.Contains(lastErr, want) {
			t.Errorf("poisoned %d: sent %v failed %v error %q", i, sent, failed, lastErr)
		}
		if n := b.messageSentEvents(t, nos[i]); n != 0 {
			t.Errorf("poisoned %d: %d message_sent events", i, n)
		}
	}
	for _, no := range nos[2:] {
		if _, sent, failed, _ := b.outboxRow(t, no); !sent || failed {
			t.Errorf("%s: sent %v failed %v", no, sent, failed)
		}
		if n := b.messageSentEvents(t, no); n != 1 {
			t.Errorf("%s: %d message_sent events", no, n)
		}
	}
	// Failed messages are not picked again.
	b.clock.Add(24 * time.Hour)
	rep, err = b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: gw, Render: knownTemplates}, 100)
	if err != nil || rep != (tracking.DeliveryReport{}) {
		t.Fatalf("second round: %+v %v", rep, err)
	}
	ms, err := b.ledger.Messages(b.ctx, nos[0], 10)
	if err != nil || len(ms) != 1 || ms[0].Status != "failed" || ms[0].FailedAt == nil || ms[0].SentAt != nil {
		t.Fatalf("operator view of a failed message: %+v %v", ms, err)
	}
}

// Without a gateway an SMS stays queued and says why, and nothing is called
// sent; a gateway that refuses for now leaves it queued to retry, one that
// rejects marks it failed, and only one that accepts writes message_sent.
func TestSMSIsSentOnlyWhenAGatewayAcceptsIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, c := b.ready(t), b.ready(t)

	rep, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Render: knownTemplates}, 100)
	if err != nil || rep.Waiting != 2 || rep.Sent != 0 {
		t.Fatalf("no gateway: %+v %v", rep, err)
	}
	for _, no := range []string{a, c} {
		if _, sent, failed, lastErr := b.outboxRow(t, no); sent || failed || lastErr != postgres.NoGateway {
			t.Fatalf("%s without a gateway: sent %v failed %v error %q", no, sent, failed, lastErr)
		}
		if n := b.messageSentEvents(t, no); n != 0 {
			t.Fatalf("%s: message_sent written with no gateway (%d)", no, n)
		}
	}
	ms, err := b.ledger.Messages(b.ctx, a, 10)
	if err != nil || len(ms) != 1 || ms[0].Status != "queued" || ms[0].LastError != postgres.NoGateway || ms[0].SentAt != nil {
		t.Fatalf("operator view without a gateway: %+v %v", ms, err)
	}
	// Looked at once: the next rounds leave them alone.
	rep, err = b.ledger.Deliver(b.ctx, tracking.Delivery{Render: knownTemplates}, 100)
	if err != nil || rep != (tracking.DeliveryReport{}) {
		t.Fatalf("second round without a gateway: %+v %v", rep, err)
	}

	// A gateway that is down: both stay queued, to be retried.
	down := &gateway{err: errors.New("gateway unavailable")}
	rep, err = b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: down, Render: knownTemplates}, 100)
	if err != nil || rep.Retry != 2 || rep.Sent != 0 {
		t.Fatalf("gateway down: %+v %v", rep, err)
	}
	if _, sent, failed, lastErr := b.outboxRow(t, a); sent || failed || lastErr != "gateway unavailable" {
		t.Fatalf("after a refusal: sent %v failed %v error %q", sent, failed, lastErr)
	}
	// A gateway that rejects the first for good: it fails, the other waits.
	b.clock.Add(time.Hour)
	rejecting := &gateway{err: fmt.Errorf("number refused: %w", tracking.ErrRejected)}
	rep, err = b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: rejecting, Render: knownTemplates}, 1)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("rejecting gateway: %+v %v", rep, err)
	}
	if _, sent, failed, _ := b.outboxRow(t, a); sent || !failed {
		t.Fatalf("rejected message: sent %v failed %v", sent, failed)
	}
	// A gateway that accepts: the other is sent, with its event.
	ok := &gateway{}
	rep, err = b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: ok, Render: knownTemplates}, 100)
	if err != nil || rep.Sent != 1 || len(ok.got) != 1 || ok.got[0].WaybillNo != c {
		t.Fatalf("accepting gateway: %+v %v %+v", rep, err, ok.got)
	}
	if _, sent, failed, _ := b.outboxRow(t, c); !sent || failed {
		t.Fatalf("accepted message: sent %v failed %v", sent, failed)
	}
	// The ready SMS carries the parcel's private link.
	if v, err := b.svc().Get(b.ctx, b.actors["admin"], c); err != nil || v.PrivateURL == "" || ok.got[0].Params["url"] != v.PrivateURL {
		t.Fatalf("link in the SMS %q, the parcel's %q (%v)", ok.got[0].Params["url"], v.PrivateURL, err)
	}
	if b.messageSentEvents(t, a) != 0 || b.messageSentEvents(t, c) != 1 {
		t.Fatalf("message_sent events: rejected %d, accepted %d", b.messageSentEvents(t, a), b.messageSentEvents(t, c))
	}
	var ref string
	_ = b.pool.QueryRow(b.ctx, `SELECT provider_ref FROM outbox WHERE id = $1`, func() int64 { id, _, _, _ := b.outboxRow(t, c); return id }()).Scan(&ref)
	if ref != "gw-1" {
		t.Fatalf("provider reference %q", ref)
	}
}
