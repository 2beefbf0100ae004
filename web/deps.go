// Package web is the HTTP surface and the only package that imports Fiber:
// the JSON API under /api/v1, its OpenAPI document, the public track page
// under /t, and health checks. Handlers are thin: they decode, call a
// service through the interfaces in Deps, and return errors to the one
// ErrorHandler, which maps application error kinds to HTTP statuses and
// translates their codes.
package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/changchun-gov/courier/internal/i18n"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Ledger registers, moves and reads parcels.
type Ledger interface {
	Register(ctx context.Context, a shipment.Actor, r shipment.Registration, src shipment.Source) (tracking.ParcelView, error)
	Get(ctx context.Context, a shipment.Actor, waybill string) (tracking.ParcelView, error)
	List(ctx context.Context, a shipment.Actor, f tracking.Filter) (tracking.Page[tracking.ParcelView], error)
	Events(ctx context.Context, a shipment.Actor, waybill string) ([]tracking.Event, error)
	Scan(ctx context.Context, a shipment.Actor, req tracking.ScanRequest) (tracking.ScanResult, error)
	Track(ctx context.Context, waybill, phoneTail, lang string, t func(key string) string) (tracking.PublicStatus, bool, error)
	Messages(ctx context.Context, waybill string, limit int) ([]tracking.OutboxEntry, error)
	LabelsFor(ctx context.Context, a shipment.Actor, numbers []string) ([]labels.Label, error)
	RecordPrinted(ctx context.Context, a shipment.Actor, numbers []string, layout string) error
}

// Accounts keeps users and their tokens.
type Accounts interface {
	Create(ctx context.Context, n shipment.NewUser) (shipment.User, error)
	List(ctx context.Context) ([]shipment.User, error)
	IssueToken(ctx context.Context, username, password string) (string, time.Time, error)
	ActorByToken(ctx context.Context, token string) (shipment.Actor, error)
	RevokeToken(ctx context.Context, token string) error
}

// Reference answers static site and certificate-type data from memory.
type Reference interface {
	Site(code string) (shipment.Site, bool)
	Sites() []shipment.Site
	CertTypes() []shipment.CertType
}

// Throttle counts failures per client in state every instance shares.
type Throttle interface {
	Fail(ctx context.Context, scope, client string) (int, error)
	Failures(ctx context.Context, scope, client string) (int, error)
	Forgive(ctx context.Context, scope, client string) error
}

// Operations covers routes, consolidation runs, the calendar and the
// scheduled jobs. Views are returned as values that encode to JSON.
type Operations interface {
	Legs(ctx context.Context) ([]shipment.Leg, error)
	Path(ctx context.Context, from, to string) ([]string, error)
	SaveLeg(ctx context.Context, l shipment.Leg) (shipment.Leg, error)
	RunLegNow(ctx context.Context, a shipment.Actor, legID int64) (any, error)
	Runs(ctx context.Context, a shipment.Actor, site, status string, limit int) (any, error)
	Run(ctx context.Context, a shipment.Actor, no string) (any, error)
	CloseRun(ctx context.Context, a shipment.Actor, no string) (any, error)
	Manifest(ctx context.Context, a shipment.Actor, no string) (labels.Manifest, error)
	BagLabel(ctx context.Context, a shipment.Actor, no string) (labels.BagLabel, error)
	Calendar(ctx context.Context) (map[string]string, error)
	SetCalendarDay(ctx context.Context, day, kind, note string) error
	Jobs(ctx context.Context) (any, error)
	SaveJob(ctx context.Context, name string, enabled bool, schedule string, params []byte) (any, error)
	JobRuns(ctx context.Context, name string, limit int) (any, error)
	RunJobNow(ctx context.Context, name string) (any, error)
}

// Integrity covers the event log's daily digests and the checks of its
// hash chains (admins). Errors: verify.day_invalid, verify.range_incomplete,
// verify.range_reversed, verify.range_empty, parcel.not_found,
// verify.not_found.
type Integrity interface {
	Digests(ctx context.Context, from, to string) (any, error)
	StartVerify(ctx context.Context, a shipment.Actor, from, to, waybill string) (any, error)
	VerifyRun(ctx context.Context, id int64) (any, error)
}

// Deps is everything the handlers need.
type Deps struct {
	Ledger    Ledger
	Accounts  Accounts
	Ref       Reference
	Throttle  Throttle
	Runs      Operations
	Integrity Integrity
	Labels    *labels.Renderer
	Catalog   *i18n.Catalog
	Log       *slog.Logger
	PublicURL string
	Version   string
	// Ready reports whether the database is reachable and its schema current.
	Ready func(ctx context.Context) error
	// Limits on failed public lookups per client and window: past Free each
	// failure is delayed a little more (up to MaxDelay); past Hard failures
	// are refused with 429. Successful lookups are never slowed.
	TrackFree, TrackHard int
	TrackMaxDelay        time.Duration
	// LoginHard refuses sign-ins from a client after this many failures.
	LoginHard int
	// ProxyHeader, when set, is the header holding the client address; it is
	// believed only from TrustedProxies.
	ProxyHeader    string
	TrustedProxies []string
	// RequestTimeout bounds each request's work.
	RequestTimeout time.Duration
}
