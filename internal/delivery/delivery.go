// Package delivery is the worker that delivers the outbox's messages. The
// ledger writes a message in the same transaction as the change that causes
// it; this worker, on every instance, hands each message to the SMS gateway
// after commit (when kicked) and every few seconds (for messages whose
// earlier try failed or whose instance died). The outbox itself, with its
// claim of each message by one instance, is the store's (internal/postgres).
package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/i18n"
	"github.com/changchun-gov/courier/tracking"
)

// Outbox hands due messages to a delivery, each exactly once across
// instances, up to limit per call.
type Outbox interface {
	Deliver(ctx context.Context, d tracking.Delivery, limit int) (tracking.DeliveryReport, error)
}

// Defaults of a Worker.
const (
	DefaultInterval = 5 * time.Second
	DefaultBatch    = 100
)

// Worker delivers the outbox's messages until its context ends.
type Worker struct {
	Outbox   Outbox
	Delivery tracking.Delivery
	// Kick, when it receives, starts a round at once (after a commit that
	// wrote messages).
	Kick     <-chan struct{}
	Log      *slog.Logger
	Interval time.Duration // between rounds without a kick (DefaultInterval)
	Batch    int           // messages per round (DefaultBatch)
}

// Run delivers after each kick and every Interval until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	iv, batch := w.Interval, w.Batch
	if iv <= 0 {
		iv = DefaultInterval
	}
	if batch <= 0 {
		batch = DefaultBatch
	}
	tick := time.NewTicker(iv)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.Kick:
		case <-tick.C:
		}
		rep, err := w.Outbox.Deliver(ctx, w.Delivery, batch)
		if err != nil && ctx.Err() == nil {
			w.Log.Warn("outbox delivery", "err", err)
		}
		if rep.Failed > 0 {
			w.Log.Warn("outbox: messages failed and will not be retried (see GET /api/v1/messages)", "failed", rep.Failed)
		}
	}
}

// RenderSMS fills a message's text from its template in the Chinese
// catalog; a template the catalog does not know is an error.
func RenderSMS(cat *i18n.Catalog) func(m *tracking.Message) error {
	return func(m *tracking.Message) error {
		args := make(map[string]any, len(m.Params))
		for k, v := range m.Params {
			args[k] = v
		}
		text := cat.T(i18n.Chinese, m.Template, args)
		if !strings.HasPrefix(m.Template, "sms.") || text == m.Template {
			return fmt.Errorf("unknown SMS template %q", m.Template)
		}
		m.Text = text
		return nil
	}
}
