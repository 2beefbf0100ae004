// Package service holds the use cases: it validates a request, decides it
// with the pure rules of shipment and tracking (each rule once), and hands
// the reads and the one atomic write to a store it defines here, which
// internal/postgres implements (SQL, transactions and row mapping stay
// there). The API calls it; the coming pages, the courier's pushes and the
// jobs call the same methods.
package service

import (
	"context"
	"errors"
	"time"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Hasher makes keyed hashes (secrets.Keys): scan fingerprints, collection
// codes and ID numbers are compared by their hashes only.
type Hasher interface {
	Hash(domain, value string) []byte
}

// Reference answers static site and certificate-type data from memory.
type Reference interface {
	Site(code string) (shipment.Site, bool)
	SiteKind(code string) (shipment.SiteKind, bool)
	CertType(code string) (shipment.CertType, bool)
	HasCertType(code string) bool
	// Place is a site as the public track page shows it, in lang; full adds
	// a hall's address, hours and phone. Nil for an unknown site.
	Place(code, lang string, full bool) *tracking.Place
}

// Store is everything the use cases read and write.
type Store interface {
	ScanStore
	RegisterStore
	TrackStore
	ReadStore
	ListStore
	RetentionStore
}

// Parcels registers, moves and tracks parcels: the use cases of the
// ledger.
type Parcels struct {
	Store    Store
	Keys     Hasher
	Ref      Reference
	Routes   Router   // nil: direct paths
	Throttle Throttle // nil: wrong collection codes are not counted
	// Reads records the searches that show personal data (nil: not
	// recorded; the service always sets it).
	Reads ReadRecorder
	// Photos reads the proxies' authorisation photos (nil: none shown).
	Photos PhotoStore
	// Redirects keeps the recipients' choices of express (nil: none made).
	Redirects RedirectStore
	Now       func() time.Time
}

func (s *Parcels) now() time.Time { return clock(s.Now).Truncate(time.Microsecond) }

// Router computes a path over the active routes.
type Router interface {
	Path(ctx context.Context, from, to string) ([]string, error)
}

// Throttle counts failures per key in state every instance shares.
type Throttle interface {
	Fail(ctx context.Context, scope, client string) (int, error)
	Failures(ctx context.Context, scope, client string) (int, error)
	// Forgive takes back one failure counted before an attempt that then
	// succeeded.
	Forgive(ctx context.Context, scope, client string) error
}

// ErrLostRace marks a write whose version check another change of the
// parcel won since it was read. Stores wrap it in parcel.conflict.
var ErrLostRace = errors.New("the parcel changed since it was read")

// ErrScanIDTaken marks a write that found its scan id stored meanwhile by
// another request. Stores wrap it.
var ErrScanIDTaken = errors.New("the scan id was stored meanwhile")

// Message is a message to a parcel's holder, queued with the write that
// causes it.
type Message struct {
	Template string
	Params   map[string]string
}

func clock(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}
