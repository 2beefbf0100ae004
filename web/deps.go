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

// Parcels registers, moves and tracks parcels (service.Parcels): the use
// cases every surface calls.
type Parcels interface {
	Register(ctx context.Context, a shipment.Actor, r shipment.Registration, src shipment.Source) (tracking.ParcelView, error)
	// CheckRegistration checks as Register would and returns the path,
	// writing nothing.
	CheckRegistration(ctx context.Context, a shipment.Actor, r shipment.Registration) ([]string, error)
	Scan(ctx context.Context, a shipment.Actor, req tracking.ScanRequest) (tracking.ScanResult, error)
	Track(ctx context.Context, waybill, phoneTail, lang string, t func(key string) string) (tracking.PublicStatus, bool, error)
	TrackByLink(ctx context.Context, token, lang string, t func(key string) string) (tracking.PublicStatus, error)
	Get(ctx context.Context, a shipment.Actor, waybill string) (tracking.ParcelView, error)
	Events(ctx context.Context, a shipment.Actor, waybill string) ([]tracking.Event, error)
	List(ctx context.Context, a shipment.Actor, f tracking.Filter) (tracking.Page[tracking.ParcelView], error)
	AuthorisationPhoto(ctx context.Context, a shipment.Actor, waybill string) (string, []byte, error)
	// SendRedirectCode and Redirect are the recipient's choice of express
	// to the door through the private link.
	SendRedirectCode(ctx context.Context, token string) error
	Redirect(ctx context.Context, token, code string, addr shipment.Address) error
}

// Ledger reads parcels' messages.
type Ledger interface {
	Messages(ctx context.Context, waybill string, limit int) ([]tracking.OutboxEntry, error)
}

// PrintRuns makes waybill labels (service.Labels): one to look at, or a
// print run recorded on every parcel in it once render drew it.
type PrintRuns interface {
	Label(ctx context.Context, a shipment.Actor, number string) (labels.Label, error)
	Print(ctx context.Context, a shipment.Actor, raw []string, layout string,
		render func(layout string, ls []labels.Label) error) error
	// Receipt is a collected parcel's handover receipt.
	Receipt(ctx context.Context, a shipment.Actor, number string) (labels.Receipt, error)
}

// Accounts keeps users and their tokens.
type Accounts interface {
	CreateBy(ctx context.Context, by shipment.Actor, n shipment.NewUser) (shipment.User, error)
	List(ctx context.Context) ([]shipment.User, error)
	// IssueToken signs in; newPassword, when set, becomes the password
	// (required after a reset).
	IssueToken(ctx context.Context, username, password, newPassword string) (string, time.Time, error)
	ActorByToken(ctx context.Context, token string) (shipment.Actor, error)
	// StartSession signs a browser in as IssueToken does; ActorBySession
	// resolves its session (RevokeToken ends it).
	StartSession(ctx context.Context, username, password, newPassword string) (string, time.Time, error)
	ActorBySession(ctx context.Context, token string) (shipment.Actor, error)
	RevokeToken(ctx context.Context, token string) error
	// Update disables, enables, or changes the role and site of a user.
	Update(ctx context.Context, by shipment.Actor, username string, ch shipment.UserChange) (shipment.User, error)
	// ResetPassword returns a temporary password the user must replace.
	ResetPassword(ctx context.Context, by shipment.Actor, username string) (string, error)
	// ChangePassword sets the actor's own password; keepToken stays valid.
	ChangePassword(ctx context.Context, a shipment.Actor, keepToken, current, password string) error
}

// Reference answers static site and certificate-type data from memory.
type Reference interface {
	Site(code string) (shipment.Site, bool)
	Sites() []shipment.Site
	CertType(code string) (shipment.CertType, bool)
	CertTypes() []shipment.CertType
}

// Throttle counts failures per client in state every instance shares.
type Throttle interface {
	Fail(ctx context.Context, scope, client string) (int, error)
	Failures(ctx context.Context, scope, client string) (int, error)
	Forgive(ctx context.Context, scope, client string) error
}

// Operations covers routes, consolidation runs, the calendar and the
// scheduled jobs.
type Operations interface {
	Legs(ctx context.Context) ([]shipment.Leg, error)
	Path(ctx context.Context, from, to string) ([]string, error)
	RunLegNow(ctx context.Context, a shipment.Actor, legID int64) (*tracking.RunView, error)
	Runs(ctx context.Context, a shipment.Actor, site, status string, limit int) ([]tracking.RunView, error)
	Run(ctx context.Context, a shipment.Actor, no string) (*tracking.RunView, error)
	CloseRun(ctx context.Context, a shipment.Actor, no string) (tracking.CloseResult, error)
	// CancelRun cancels a run not yet picked up; its parcels wait for the next.
	CancelRun(ctx context.Context, a shipment.Actor, no, reason string, src shipment.Source) (*tracking.RunView, error)
	// BookByHand records a booking made by telephone.
	BookByHand(ctx context.Context, a shipment.Actor, no, ref, note string) (*tracking.RunView, error)
	Manifest(ctx context.Context, a shipment.Actor, no string) (labels.Manifest, error)
	BagLabel(ctx context.Context, a shipment.Actor, no string) (labels.BagLabel, error)
	Calendar(ctx context.Context) (map[string]string, error)
	Jobs(ctx context.Context) (tracking.JobsView, error)
	JobRuns(ctx context.Context, name string, limit int) ([]tracking.JobRun, error)
	RunJobNow(ctx context.Context, name string) (tracking.JobRun, error)
}

// Settings is the administrators' edits of the city's settings (sites with
// their hall settings, legs, the calendar, the jobs; service.Settings, as
// Slots is) and the audit log of every one of them.
type Settings interface {
	SaveSite(ctx context.Context, by shipment.Actor, code string, e shipment.SiteEdit) (shipment.Site, error)
	SaveLeg(ctx context.Context, by shipment.Actor, l shipment.Leg) (shipment.Leg, error)
	// SetCalendarDay records a closed or make-up working day, and returns
	// the note as kept; ClearCalendarDay removes the day's exception.
	SetCalendarDay(ctx context.Context, by shipment.Actor, day, kind, note string) (string, error)
	ClearCalendarDay(ctx context.Context, by shipment.Actor, day string) error
	SaveJob(ctx context.Context, by shipment.Actor, name string, enabled bool, schedule string, params []byte) (tracking.JobSetting, error)
	Audit(ctx context.Context, f shipment.AuditFilter) (tracking.Page[shipment.AuditEntry], error)
	CourierMapping(ctx context.Context, by shipment.Actor, carrier string) (tracking.StageMapping, error)
	SaveCourierMapping(ctx context.Context, by shipment.Actor, carrier string, m tracking.StageMapping) (tracking.StageMapping, error)
}

// Integrity covers the event log's daily digests and the checks of its
// hash chains (admins). Errors: verify.day_invalid, verify.range_incomplete,
// verify.range_reversed, verify.range_empty, parcel.not_found,
// verify.not_found.
type Integrity interface {
	Digests(ctx context.Context, from, to string) ([]tracking.DigestView, error)
	StartVerify(ctx context.Context, a shipment.Actor, from, to, waybill string) (tracking.VerifyRun, error)
	VerifyRun(ctx context.Context, id int64) (tracking.VerifyRun, error)
}

// Hall is a hall's work on its shelves (service.Hall).
// Imports previews and registers bulk imports (service.Imports).
type Imports interface {
	Preview(ctx context.Context, a shipment.Actor, fileName string, data []byte) (tracking.ImportPreview, error)
	Get(ctx context.Context, a shipment.Actor, id string) (tracking.ImportPreview, error)
	Commit(ctx context.Context, a shipment.Actor, id, choice string) (tracking.ImportPreview, error)
	Template(a shipment.Actor, format string) (string, []byte, error)
}

type Hall interface {
	Shelf(ctx context.Context, a shipment.Actor, site string) (all, returning []tracking.ShelfItem, err error)
	Stocktake(ctx context.Context, a shipment.Actor, site string, seen []tracking.Seen) (tracking.StocktakeResult, error)
}

// PushReceiver takes one courier push and returns the HTTP status and body
// its protocol requires (integrations/sfexpress and ems).
type PushReceiver interface {
	Receive(ctx context.Context, body []byte) (int, []byte)
}

// Couriers is the couriers' side of the bookings (service.Couriers).
type Couriers interface {
	Bookings(ctx context.Context, a shipment.Actor) ([]tracking.CourierBooking, error)
	Take(ctx context.Context, a shipment.Actor, no string) error
	Assign(ctx context.Context, a shipment.Actor, no, username string) error
	HandOver(ctx context.Context, a shipment.Actor, no string) error
}

// Deps is everything the handlers need.
type Deps struct {
	Ledger    Ledger
	Parcels   Parcels
	PrintRuns PrintRuns
	Accounts  Accounts
	Ref       Reference
	Throttle  Throttle
	Runs      Operations
	Settings  Settings
	Slots     Slots
	Integrity Integrity
	Hall      Hall
	Imports   Imports
	Pushes    *Pushes
	Couriers  Couriers
	Labels    *labels.Renderer
	Catalog   *i18n.Catalog
	Log       *slog.Logger
	PublicURL string
	Version   string
	// Ready reports whether the database is reachable and its schema current.
	Ready func(ctx context.Context) error
	// Unavailable maps a dependency's failure that reached a handler
	// untranslated (the database away) to an application error, and returns
	// any other error unchanged; nil leaves errors as they are.
	Unavailable func(error) error
	// Limits on failed public lookups per client and window: past Free each
	// failure is delayed a little more (up to MaxDelay); past Hard failures
	// are refused with 429. Successful lookups are never slowed.
	TrackFree, TrackHard int
	TrackMaxDelay        time.Duration
	// Sign-in limits per window. LoginHard refuses a client after this many
	// failures for one user; LoginClientHard refuses a client after this
	// many failures over all users, but only for users it has failed for
	// (so a shared address never locks out someone who typed right).
	// Past LoginUserFree failures for a user from all clients, each of its
	// sign-ins is delayed (up to LoginMaxDelay) rather than refused.
	LoginHard, LoginClientHard, LoginUserFree int
	LoginMaxDelay                             time.Duration
	// Sleep waits for d or until ctx ends (tests inject one).
	Sleep func(ctx context.Context, d time.Duration)
	// ProxyHeader, when set, is the header holding the client address; it is
	// believed only from TrustedProxies.
	ProxyHeader    string
	TrustedProxies []string
	// RequestTimeout bounds each request's work.
	RequestTimeout time.Duration
}
