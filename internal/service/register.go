package service

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// ErrApplicationTaken marks a registration whose application number the
// origin has registered already for the kind. Stores wrap it.
var ErrApplicationTaken = errors.New("the application number is registered already")

// RegisterStore keeps new parcels.
type RegisterStore interface {
	// Register stores a new parcel in one transaction: the parcel under a
	// fresh waybill number, its people, its private link and its first
	// event. It answers the parcel as the actor sees it. Errors:
	// ErrApplicationTaken (wrapped).
	Register(ctx context.Context, w RegisterWrite) (tracking.ParcelView, error)
	// Registered reads the parcel registered under a registration's origin,
	// kind and application number, as the actor sees it, with the hash of
	// its registration (nil once purged).
	Registered(ctx context.Context, a shipment.Actor, r *shipment.Registration) (tracking.ParcelView, []byte, error)
}

// RegisterWrite is a validated registration.
type RegisterWrite struct {
	Actor  shipment.Actor
	Reg    *shipment.Registration
	Source shipment.Source
	Path   []string
	Now    time.Time
	// RegHash is the keyed hash of the normalised registration, kept to tell
	// the same registration sent again from another one.
	RegHash []byte
}

// Register validates and stores a new parcel with its first event.
//
// An application number is registered once per origin and kind: the same
// registration sent again answers the parcel registered before (Existing
// set, nothing written); the same number with a different body is refused.
//
// Errors: action.role_forbidden, parcel.dept_not_yours (forbidden); the
// validation codes of shipment.Registration.Normalize and of the route
// (invalid); parcel.application_no_taken (conflict).
func (s *Parcels) Register(ctx context.Context, a shipment.Actor, r shipment.Registration, src shipment.Source) (tracking.ParcelView, error) {
	path, err := s.checkRegistration(ctx, a, &r, nil)
	if err != nil {
		return tracking.ParcelView{}, err
	}
	now := s.now()
	regHash := s.regHash(&r)
	v, err := s.Store.Register(ctx, RegisterWrite{Actor: a, Reg: &r, Source: src, Path: path, Now: now, RegHash: regHash})
	if !errors.Is(err, ErrApplicationTaken) {
		return v, err
	}
	v, stored, err := s.Store.Registered(ctx, a, &r)
	if err != nil {
		return tracking.ParcelView{}, err
	}
	if stored == nil || !bytes.Equal(stored, regHash) {
		return tracking.ParcelView{}, apperr.New(apperr.Conflict, "parcel.application_no_taken").OnField("application_no").
			With("application_no", r.ApplicationNo).With("waybill_no", v.WaybillNo)
	}
	v.Existing = true
	return v, nil
}

// CheckRegistration checks a registration as Register would, writing
// nothing, and returns the path the parcel would take (the desk's form
// shows it as the clerk types). Errors: those of Register before it writes.
func (s *Parcels) CheckRegistration(ctx context.Context, a shipment.Actor, r shipment.Registration) ([]string, error) {
	return s.checkRegistration(ctx, a, &r, nil)
}

// checkRegistration normalises r and checks who may register it and
// where it can go; it returns its path, kept in paths (when not nil) per
// pair of sites.
func (s *Parcels) checkRegistration(ctx context.Context, a shipment.Actor, r *shipment.Registration, paths map[[2]string][]string) ([]string, error) {
	if !shipment.MayTake(a.Role, shipment.ActRegister) {
		return nil, apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", "register")
	}
	if err := r.Normalize(s.Ref.SiteKind, s.Ref.HasCertType); err != nil {
		return nil, err
	}
	if !a.MayRegisterAt(r.OriginSite) {
		return nil, apperr.New(apperr.Forbidden, "parcel.dept_not_yours").OnField("origin_site").With("site", r.OriginSite)
	}
	path := shipment.InitialPath(r)
	if s.Routes == nil || r.Destination.Kind == shipment.DestAddress {
		return path, nil
	}
	key := [2]string{r.OriginSite, r.Destination.Site}
	if got, ok := paths[key]; ok {
		return got, nil
	}
	path, err := s.Routes.Path(ctx, key[0], key[1])
	if err != nil {
		return nil, withField(err, "destination.site")
	}
	if paths != nil {
		paths[key] = path // a file's rows mostly go the same way: asked once per pair
	}
	return path, nil
}
