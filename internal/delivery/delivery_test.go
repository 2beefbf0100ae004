package delivery_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/delivery"
	"github.com/changchun-gov/courier/internal/i18n"
	"github.com/changchun-gov/courier/tracking"
)

func TestRenderSMSFromTheChineseCatalog(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	render := delivery.RenderSMS(cat)
	m := tracking.Message{Template: "sms.ready", Params: map[string]string{"cert_type": "营业执照", "hall": "南关区政务服务中心",
		"code": "482913", "hold_until": "2026-12-09", "url": "https://example.org/s/abc"}}
	if err := render(&m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"【长春政务】", "营业执照", "南关区政务服务中心", "482913", "2026-12-09", "查询：https://example.org/s/abc"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text %q lacks %q", m.Text, want)
		}
	}
	// Without a link (it has expired), no dangling "查询：".
	m = tracking.Message{Template: "sms.reminder", Params: map[string]string{"cert_type": "营业执照", "hall": "南关区政务服务中心",
		"code": "482913", "hold_until": "2026-12-09"}}
	if err := render(&m); err != nil || strings.Contains(m.Text, "查询") || !strings.HasSuffix(m.Text, "前领取。") {
		t.Errorf("reminder without a link: %q %v", m.Text, err)
	}
	// A template the catalog does not know, or one that is not an SMS,
	// does not render.
	for _, tpl := range []string{"sms.nope", "site.returning"} {
		m := tracking.Message{Template: tpl}
		if err := render(&m); err == nil || m.Text != "" {
			t.Errorf("%s rendered: %q %v", tpl, m.Text, err)
		}
	}
}

// outbox records the rounds it was asked for.
type outbox struct {
	mu     sync.Mutex
	rounds []int
	seen   chan struct{}
}

func (o *outbox) Deliver(_ context.Context, d tracking.Delivery, limit int) (tracking.DeliveryReport, error) {
	if d.Render == nil {
		panic("the worker lost its delivery")
	}
	o.mu.Lock()
	o.rounds = append(o.rounds, limit)
	o.mu.Unlock()
	o.seen <- struct{}{}
	return tracking.DeliveryReport{}, nil
}

func TestWorkerDeliversWhenKickedAndStops(t *testing.T) {
	o := &outbox{seen: make(chan struct{}, 10)}
	kick := make(chan struct{}, 1)
	w := &delivery.Worker{Outbox: o, Kick: kick, Log: slog.New(slog.DiscardHandler), Interval: time.Hour,
		Delivery: tracking.Delivery{Render: func(*tracking.Message) error { return nil }}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	select {
	case <-o.seen:
		t.Fatal("a round before any kick or tick")
	case <-time.After(50 * time.Millisecond):
	}
	kick <- struct{}{}
	select {
	case <-o.seen:
	case <-time.After(5 * time.Second):
		t.Fatal("no round after a kick")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker did not stop with its context")
	}
	if len(o.rounds) != 1 || o.rounds[0] != delivery.DefaultBatch {
		t.Fatalf("rounds %v, want one of %d", o.rounds, delivery.DefaultBatch)
	}
}
