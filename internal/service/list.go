package service

import (
	"context"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// MaxCodeLookupFailures is how many collection-code lookups that find
// nothing a hall takes in a throttle window before lookups there are
// refused: a lookup is a guess at a code, like a wrong code at collect.
const MaxCodeLookupFailures = 20

var collectionCodeRe = regexp.MustCompile(`^[0-9]{6}$`)

// ListStore lists parcels for the staff screens, each as the actor may
// see it (tracking.StaffView).
type ListStore interface {
	// ListParcels lists the parcels the actor may see that match q, newest
	// first: at most q.Limit, and the id to list before for the next page
	// (0: none follows).
	ListParcels(ctx context.Context, a shipment.Actor, q ListQuery) ([]tracking.ParcelView, int64, error)
	// ReadyByCode lists the ready parcels of a hall holding a collection
	// code (one, or none).
	ReadyByCode(ctx context.Context, a shipment.Actor, hall, code string) ([]tracking.ParcelView, error)
}

// ListQuery is a validated list filter.
type ListQuery struct {
	Status shipment.Status
	Site   string // at, from or bound for this site
	// The text searched for, and what it may be besides an application
	// number or a name: a waybill number, a shelf slot (only for those who
	// see slots), a phone's last four digits or a whole phone number.
	Text, Number, Slot, PhoneTail, Phone string
	Dest                                 string    // bound for this site
	Since, Until                         time.Time // registered at or after, before (zero: open)
	Before                               int64     // list parcels older than this id (0: from the newest)
	Limit                                int
}

// PersonalRead is a staff search that showed personal data: who, when,
// from which screen, by what it matched and the parcels it showed.
type PersonalRead struct {
	Actor     shipment.Actor
	At        time.Time
	Purpose   string
	MatchedBy string // name, phone or phone_tail
	Waybills  []string
}

// ReadRecorder records reads of personal data (nil: not recorded, for
// stores in tests only).
type ReadRecorder interface {
	RecordRead(ctx context.Context, r PersonalRead) error
}

// List returns the parcels the actor may see, newest first, a page at a
// time. With a collection code it answers the ready parcel of the hall
// holding it (see byCode).
//
// Errors: request.bad_cursor, request.bad_query, site.unknown (invalid);
// those of byCode.
func (s *Parcels) List(ctx context.Context, a shipment.Actor, f tracking.Filter) (tracking.Page[tracking.ParcelView], error) {
	var none tracking.Page[tracking.ParcelView]
	if f.CollectionCode != "" {
		return s.byCode(ctx, a, f)
	}
	q := ListQuery{Status: f.Status, Site: f.Site, Limit: f.Limit}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 200 {
		q.Limit = 200
	}
	if q.Status != "" && !q.Status.Valid() {
		return none, apperr.New(apperr.Invalid, "request.bad_query").With("field", "status")
	}
	for _, site := range []string{q.Site, f.Dest} {
		if _, ok := s.Ref.Site(site); site != "" && !ok {
			return none, apperr.New(apperr.Invalid, "site.unknown").With("site", site)
		}
	}
	q.Dest = f.Dest
	var err error
	if q.Since, q.Until, err = dayRange(f.From, f.To); err != nil {
		return none, err
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		if len([]rune(t)) > 64 {
			return none, apperr.New(apperr.Invalid, "request.bad_query").With("field", "q")
		}
		q.Text = t
		if c, err := shipment.ParseCode(t); err == nil && c.Kind != shipment.KindSlot {
			q.Number = c.Number
		}
		if slot, err := shipment.ParseSlot(t); err == nil && tracking.SeesSlots(a) {
			q.Slot = slot // what stands in a shelf slot (typed, or its tag scanned)
		}
		if len(t) == 4 && strings.Trim(t, "0123456789") == "" {
			q.PhoneTail = t
		} else if len(t) == 11 {
			q.Phone = t
		}
	}
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		id, err2 := strconv.ParseInt(string(b), 10, 64)
		if err != nil || err2 != nil || id <= 0 {
			return none, apperr.New(apperr.Invalid, "request.bad_cursor")
		}
		q.Before = id
	}
	items, next, err := s.Store.ListParcels(ctx, a, q)
	if err != nil {
		return none, err
	}
	if err := s.recordSearch(ctx, a, f.Purpose, q, items); err != nil {
		return none, err
	}
	out := tracking.Page[tracking.ParcelView]{Items: items}
	if out.Items == nil {
		out.Items = []tracking.ParcelView{}
	}
	if next > 0 {
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(next, 10)))
	}
	return out, nil
}

// byCode answers the ready parcel of a hall that holds a collection code
// (an empty page when none does). Staff look in their own hall; an admin
// names the hall. A lookup that finds nothing counts as a wrong code at
// that hall; past MaxCodeLookupFailures in a window lookups there are
// refused, so they cannot be used to guess.
//
// Errors: collect.code_format, site.required, site.unknown, site.wrong_kind,
// request.bad_query (invalid); auth.forbidden, parcel.other_site
// (forbidden); collect.lookup_too_many (too many).
func (s *Parcels) byCode(ctx context.Context, a shipment.Actor, f tracking.Filter) (tracking.Page[tracking.ParcelView], error) {
	var none tracking.Page[tracking.ParcelView]
	if !shipment.MayTake(a.Role, shipment.ActCollect) {
		return none, apperr.New(apperr.Forbidden, "auth.forbidden")
	}
	if f.Status != "" || f.Text != "" || f.Cursor != "" {
		return none, apperr.New(apperr.Invalid, "request.bad_query").OnField("collection_code").With("field", "collection_code")
	}
	hall := strings.TrimSpace(f.Site)
	if a.Role != shipment.RoleAdmin {
		if hall != "" && hall != a.Site {
			return none, apperr.New(apperr.Forbidden, "parcel.other_site")
		}
		hall = a.Site
	}
	if hall == "" {
		return none, apperr.New(apperr.Invalid, "site.required").OnField("site")
	}
	site, ok := s.Ref.Site(hall)
	if !ok {
		return none, apperr.New(apperr.Invalid, "site.unknown").OnField("site").With("site", hall)
	}
	if site.Kind != shipment.SiteHall {
		return none, apperr.New(apperr.Invalid, "site.wrong_kind").OnField("site").With("site", hall)
	}
	code := strings.TrimSpace(f.CollectionCode)
	if !collectionCodeRe.MatchString(code) {
		return none, apperr.New(apperr.Invalid, "collect.code_format").OnField("collection_code")
	}
	// Counted before the lookup (lookups sent at once cannot pass the
	// limit together), taken back when it finds the parcel.
	if s.Throttle != nil {
		n, err := s.Throttle.Fail(ctx, "code_lookup", hall)
		if err != nil {
			return none, err
		}
		if n > MaxCodeLookupFailures {
			return none, apperr.New(apperr.TooMany, "collect.lookup_too_many").OnField("collection_code")
		}
	}
	items, err := s.Store.ReadyByCode(ctx, a, hall, code)
	if err != nil {
		return none, err
	}
	out := tracking.Page[tracking.ParcelView]{Items: items}
	if out.Items == nil {
		out.Items = []tracking.ParcelView{}
	}
	if len(out.Items) > 0 && s.Throttle != nil {
		_ = s.Throttle.Forgive(ctx, "code_lookup", hall)
	}
	return out, nil
}

// dayRange reads the first and last day of a list (YYYY-MM-DD in
// Asia/Shanghai, each optional) as the instants from and before. Errors:
// request.bad_query (invalid) for a day that is none, or a last day
// before the first.
func dayRange(from, to string) (time.Time, time.Time, error) {
	var since, until time.Time
	for _, d := range []struct {
		v, field string
		dst      *time.Time
		next     bool
	}{{from, "from", &since, false}, {to, "to", &until, true}} {
		if d.v == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, d.v, tracking.Shanghai)
		if err != nil {
			return since, until, apperr.New(apperr.Invalid, "request.bad_query").OnField(d.field).With("field", d.field)
		}
		if d.next {
			t = t.AddDate(0, 0, 1)
		}
		*d.dst = t.UTC()
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return since, until, apperr.New(apperr.Invalid, "request.bad_query").OnField("to").With("field", "to")
	}
	return since, until, nil
}

// recordSearch records the parcels a search showed by their holder's name
// or phone (not by a number or a slot, which reveal no one): a staff read
// of personal data. Nothing is recorded for an actor who sees none (a
// courier, an API client sees its own department's).
func (s *Parcels) recordSearch(ctx context.Context, a shipment.Actor, purpose string, q ListQuery, items []tracking.ParcelView) error {
	if s.Reads == nil || q.Text == "" || len(items) == 0 {
		return nil
	}
	by := "name"
	switch {
	case q.PhoneTail != "":
		by = "phone_tail"
	case q.Phone != "":
		by = "phone"
	}
	var nos []string
	for _, it := range items {
		if it.WaybillNo == q.Number || (it.ApplicationNo != "" && it.ApplicationNo == q.Text) || (q.Slot != "" && it.Slot == q.Slot) ||
			it.Applicant == nil {
			continue
		}
		nos = append(nos, it.WaybillNo)
	}
	if len(nos) == 0 {
		return nil
	}
	if purpose == "" {
		purpose = "api"
	}
	return s.Reads.RecordRead(ctx, PersonalRead{Actor: a, At: s.now(), Purpose: purpose, MatchedBy: by, Waybills: nos})
}
