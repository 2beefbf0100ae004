package service

import (
	"context"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// TailLimit is how many wrong phone tails a parcel takes over its whole
// life, from all clients together: after that many the tail no longer opens
// its detail, right or wrong, for good (its private link still does).
const TailLimit = 20

// LinkGrace is how long a private link outlives the end of the journey.
const LinkGrace = 7 * 24 * time.Hour

// TrackStore reads what the public track page shows.
type TrackStore interface {
	// TrackState reads a parcel's current state by its number: one indexed
	// read. Errors: parcel.not_found.
	TrackState(ctx context.Context, waybill string) (TrackState, error)
	// TrackTail checks a phone tail against the parcel's recipient and
	// counts it when it is wrong, in one round trip; the tail lookups of one
	// waybill take turns, so a right tail sees every wrong one sent before
	// it. It answers the recipient only when the tail is right and the
	// parcel has had fewer than limit wrong ones (ok false otherwise, also
	// for a parcel without a recipient).
	TrackTail(ctx context.Context, waybill, tail string, now time.Time, limit int) (p TrackPerson, ok bool, err error)
	// TrackLink reads the parcel of a private link's token whose personal
	// data is kept and whose journey has not ended before endedAfter.
	// Errors: link.not_found.
	TrackLink(ctx context.Context, token string, endedAfter time.Time) (TrackState, TrackPerson, error)
	// EventsOf reads a parcel's events in order.
	EventsOf(ctx context.Context, parcelID int64, waybill string) ([]tracking.Event, error)
	// CourierNodesOf reads the courier's route nodes of the bags the parcel
	// travelled in, in time order.
	CourierNodesOf(ctx context.Context, parcelID int64) ([]tracking.RouteNode, error)
}

// RedirectStore keeps the recipients' choices of express to the door.
type RedirectStore interface {
	// SendRedirectCode draws a one-time code, keeps its hash for ttl and
	// texts it to the phone on file. Errors: redirect.code_too_soon.
	SendRedirectCode(ctx context.Context, parcelID int64, now time.Time, ttl time.Duration) error
	// Redirect checks the code, locks the parcel, asks decide and makes the
	// choice. Errors: redirect.code_wrong, redirect.code_expired,
	// redirect.too_many, those of decide.
	Redirect(ctx context.Context, w RedirectWrite, decide func(p *shipment.Parcel) (shipment.Status, error)) error
}

// RedirectCodeTTL is how long a redirect code opens the choice.
const RedirectCodeTTL = 10 * time.Minute

// redirectable reads the parcel of a private link that its recipient may
// still redirect. Errors: link.not_found; redirect.not_allowed.
func (s *Parcels) redirectable(ctx context.Context, token string) (TrackPerson, error) {
	st, pr, err := s.Store.TrackLink(ctx, token, clock(s.Now).Add(-LinkGrace))
	if err != nil {
		return pr, err
	}
	if _, err := shipment.DecideRedirect(&shipment.Parcel{Kind: st.Kind, DestKind: st.DestKind, Status: st.Status}); err != nil {
		return pr, err
	}
	return pr, nil
}

// SendRedirectCode texts a one-time code to the phone on file of a private
// link's parcel, for its recipient to choose express to the door (never by
// the phone's digits alone). One a minute.
//
// Errors: link.not_found; redirect.not_allowed (conflict);
// redirect.code_too_soon (too many).
func (s *Parcels) SendRedirectCode(ctx context.Context, token string) error {
	pr, err := s.redirectable(ctx, token)
	if err != nil {
		return err
	}
	return s.Redirects.SendRedirectCode(ctx, pr.ParcelID, clock(s.Now), RedirectCodeTTL)
}

// Redirect is the recipient's choice of express to the door, through the
// private link with the code texted to them: recorded at once (a parcel on
// the shelf comes off it, its collection code no longer opens it), taking
// effect at the hall the parcel reaches — the courier is booked there (a
// parcel in a sealed bag travels on with its bag).
//
// Errors: link.not_found; the address's (address.*, invalid);
// redirect.code_wrong, redirect.code_expired (invalid); redirect.too_many
// (too many); redirect.not_allowed (conflict).
func (s *Parcels) Redirect(ctx context.Context, token, code string, addr shipment.Address) error {
	pr, err := s.redirectable(ctx, token)
	if err != nil {
		return err
	}
	if err := addr.Validate(); err != nil {
		return withField(err, "address")
	}
	if err := shipment.CheckDivision(&addr); err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return apperr.New(apperr.Invalid, "redirect.code_wrong").OnField("code")
	}
	return s.Redirects.Redirect(ctx, RedirectWrite{ParcelID: pr.ParcelID, Code: code, Address: addr, Now: clock(s.Now)},
		shipment.DecideRedirect)
}

// TrackState is a parcel's state as the public page reads it.
type TrackState struct {
	WaybillNo             string
	Kind                  shipment.Kind
	DestKind              shipment.DestKind
	DestSite              string
	Status                shipment.Status
	UpdatedAt             time.Time
	ReadySince, HoldUntil *time.Time
	CertType              string
}

// TrackPerson is the recipient as the public detail shows them (masked
// here).
type TrackPerson struct {
	ParcelID    int64
	IssuingDept string
	Name, Phone string
}

// Track answers the public track page: the number alone shows nothing
// personal; with the right last four digits of the phone it adds the masked
// name and phone, certificate type, department and timeline. A wrong tail,
// or any tail of a parcel that has had TailLimit wrong ones, gets the
// number-alone view; the second return says whether the detail was opened
// (false also when no tail was given).
//
// Round trips: the number alone is one indexed read. A tail adds one round
// trip that reads the recipient and the parcel's count of wrong tails and,
// when the tail is wrong, counts it (then the events when it opens).
//
// Errors: parcel.not_found.
func (s *Parcels) Track(ctx context.Context, waybill, phoneTail, lang string, t func(key string) string) (tracking.PublicStatus, bool, error) {
	row, err := s.Store.TrackState(ctx, waybill)
	if err != nil {
		return tracking.PublicStatus{}, false, err
	}
	st, ct, hasCT := s.publicState(row, lang, t)
	if !validTail(phoneTail) {
		return st, false, nil
	}
	pr, ok, err := s.Store.TrackTail(ctx, waybill, phoneTail, s.now(), TailLimit)
	if err != nil || !ok {
		return st, false, err
	}
	if err := s.publicDetail(ctx, &st, pr, ct, hasCT, lang, t); err != nil {
		return st, false, err
	}
	return st, true, nil
}

// TrackByLink answers a parcel's private link: the same view as the right
// phone tail, without it, until the journey ended LinkGrace ago. One read
// by the token, then the events.
//
// Errors: link.not_found (unknown, expired, or the personal data purged).
func (s *Parcels) TrackByLink(ctx context.Context, token, lang string, t func(key string) string) (tracking.PublicStatus, error) {
	if !shipment.ValidLinkToken(token) {
		return tracking.PublicStatus{}, apperr.New(apperr.NotFound, "link.not_found")
	}
	row, pr, err := s.Store.TrackLink(ctx, token, s.now().Add(-LinkGrace))
	if err != nil {
		return tracking.PublicStatus{}, err
	}
	st, ct, hasCT := s.publicState(row, lang, t)
	if err := s.publicDetail(ctx, &st, pr, ct, hasCT, lang, t); err != nil {
		return st, err
	}
	return st, nil
}

// publicState is the number-alone view.
func (s *Parcels) publicState(r TrackState, lang string, t func(key string) string) (tracking.PublicStatus, shipment.CertType, bool) {
	st := tracking.PublicStatus{WaybillNo: r.WaybillNo, Kind: r.Kind, Status: r.Status,
		StatusText: t("status." + string(r.Status)), UpdatedAt: tracking.Local(r.UpdatedAt),
		Express: r.DestKind == shipment.DestAddress}
	if r.Status == shipment.Ready {
		// Dates of the shelf, for a parcel on it (collected, returned, …:
		// they no longer apply).
		st.ReadySince, st.HoldUntil = tracking.LocalPtr(r.ReadySince), tracking.LocalPtr(r.HoldUntil)
	}
	st.Destination = s.Ref.Place(r.DestSite, lang, r.DestKind == shipment.DestHall)
	ct, hasCT := s.Ref.CertType(r.CertType)
	if hasCT && r.DestKind == shipment.DestHall {
		st.Bring = ct.BringZH
		if lang == "en" {
			st.Bring = ct.BringEN
		}
	}
	return st, ct, hasCT
}

// publicDetail adds the detail: masked name and phone, certificate type,
// department and the timeline.
func (s *Parcels) publicDetail(ctx context.Context, st *tracking.PublicStatus, pr TrackPerson,
	ct shipment.CertType, hasCT bool, lang string, t func(key string) string) error {
	events, err := s.Store.EventsOf(ctx, pr.ParcelID, st.WaybillNo)
	if err != nil {
		return err
	}
	d := &tracking.PublicDetail{RecipientName: shipment.MaskName(pr.Name), Phone: shipment.MaskPhoneScreen(pr.Phone)}
	if hasCT {
		d.CertType = ct.NameZH
		if lang == "en" {
			d.CertType = ct.NameEN
		}
	}
	if site, ok := s.Ref.Site(pr.IssuingDept); ok {
		d.Department = site.Name(lang)
	}
	d.Timeline = tracking.Timeline(events, func(code string) string {
		if site, ok := s.Ref.Site(code); ok {
			return site.Name(lang)
		}
		return ""
	}, t)
	nodes, err := s.Store.CourierNodesOf(ctx, pr.ParcelID)
	if err != nil {
		return err
	}
	d.Timeline = tracking.WithCourier(d.Timeline, nodes, t)
	st.Detail = d
	return nil
}

func validTail(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
