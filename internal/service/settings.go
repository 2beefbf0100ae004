package service

import (
	"context"
	"encoding/json"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/schedule"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// SiteStore keeps the sites and the audit log of administrators' changes.
type SiteStore interface {
	// SaveSite locks the site, asks change for the site as it should be,
	// given the site as stored, and writes that with its audit record, as
	// by's; every instance's reference data follows. Errors:
	// site.not_found, those of change.
	SaveSite(ctx context.Context, by shipment.Actor, code string,
		change func(cur shipment.Site) (shipment.Site, error)) (shipment.Site, error)
	Audit(ctx context.Context, f shipment.AuditFilter) (tracking.Page[shipment.AuditEntry], error)
}

// SlotStore keeps the halls' shelf slots (货位).
type SlotStore interface {
	HallSlots(ctx context.Context, site string) (shipment.HallSlots, error)
	// ReplaceHallSlots replaces a hall's slots and its slot setting with
	// in (normalised), audited as by's. A slot a ready parcel (or one
	// reported from the shelf) stands in is not removed. Errors: slot.in_use
	// (conflict).
	ReplaceHallSlots(ctx context.Context, by shipment.Actor, site string, in shipment.HallSlots) (shipment.HallSlots, error)
	// HasSlot reports whether the hall keeps slot.
	HasSlot(ctx context.Context, site, slot string) (bool, error)
}

// LegStore keeps the legs of the route network.
type LegStore interface {
	// SaveLeg creates a leg (ID 0) or changes one, audited as by's;
	// deactivating a leg flags the parcels whose path needs it. Errors:
	// route.duplicate (conflict), route.not_found.
	SaveLeg(ctx context.Context, by shipment.Actor, l shipment.Leg) (shipment.Leg, error)
}

// ScheduleStore keeps the working calendar and the jobs' settings.
type ScheduleStore interface {
	// SetCalendarDay records a holiday or a make-up working day; kind ""
	// removes the day's exception. Audited as by's.
	SetCalendarDay(ctx context.Context, by shipment.Actor, day, kind, note string) error
	// SaveJobSetting changes a job's settings, audited as by's. Errors:
	// job.not_found.
	SaveJobSetting(ctx context.Context, by shipment.Actor, s tracking.JobSetting) (tracking.JobSetting, error)
}

// SiteLookup answers the sites from the reference data.
type SiteLookup interface {
	SiteKinds
	Site(code string) (shipment.Site, bool)
}

// Settings is the administration of the city's settings — sites, the
// halls' slots, the routes, the calendar and the jobs — and the reads of a
// hall's slots its staff may make. The rules of each edit are applied here
// (shipment.CheckAdmin, HallFor, SiteEdit.Apply, HallSlots.Normalize,
// CheckLeg; schedule.CheckDayEdit and Parse; tracking.CheckJobParams); the
// stores lock, write and audit.
type Settings struct {
	Sites     SiteLookup
	Store     SiteStore
	Slots     SlotStore
	Legs      LegStore
	Schedules ScheduleStore
	// Mappings keeps the couriers' event → stage mappings; Defaults are
	// the carriers' own (what holds until an administrator saves one).
	Mappings MappingStore
	Defaults map[string]tracking.StageMapping
}

// MappingStore keeps the couriers' event → stage mappings.
type MappingStore interface {
	// CourierMapping reads a carrier's saved mapping (false: none).
	CourierMapping(ctx context.Context, carrier string) (tracking.StageMapping, bool, error)
	// SaveCourierMapping keeps it, audited as by's (before: the mapping it
	// replaces).
	SaveCourierMapping(ctx context.Context, by shipment.Actor, carrier string, before, m tracking.StageMapping) error
}

// CourierMapping is the event → stage mapping a carrier's events are read
// by now: the saved one, else the carrier's default (admins).
//
// Errors: auth.forbidden; courier.mapping_not_found (not found: a carrier
// whose events are read by its published table).
func (s *Settings) CourierMapping(ctx context.Context, by shipment.Actor, carrier string) (tracking.StageMapping, error) {
	if err := shipment.CheckAdmin(by); err != nil {
		return tracking.StageMapping{}, err
	}
	def, ok := s.Defaults[carrier]
	if !ok {
		return tracking.StageMapping{}, apperr.New(apperr.NotFound, "courier.mapping_not_found").With("carrier", carrier)
	}
	m, saved, err := s.Mappings.CourierMapping(ctx, carrier)
	if err != nil || !saved {
		return def, err
	}
	return m, nil
}

// SaveCourierMapping changes how a carrier's events are read (admins): EMS
// publishes no code table, so what its events mean is the city's to say.
//
// Errors: auth.forbidden; courier.mapping_invalid (invalid);
// courier.mapping_not_found.
func (s *Settings) SaveCourierMapping(ctx context.Context, by shipment.Actor, carrier string, m tracking.StageMapping) (tracking.StageMapping, error) {
	before, err := s.CourierMapping(ctx, by, carrier)
	if err != nil {
		return m, err
	}
	if err := tracking.CheckStageMapping(m); err != nil {
		return m, err
	}
	return m, s.Mappings.SaveCourierMapping(ctx, by, carrier, before, m)
}

// SaveSite changes a site's names, address, phone, hours, active flag and
// hall settings (admins). Errors: auth.forbidden, site.not_found, those of
// shipment.SiteEdit.Apply.
func (s *Settings) SaveSite(ctx context.Context, by shipment.Actor, code string, e shipment.SiteEdit) (shipment.Site, error) {
	if err := shipment.CheckAdmin(by); err != nil {
		return shipment.Site{}, err
	}
	return s.Store.SaveSite(ctx, by, code, e.Apply)
}

// Audit lists the audit log, newest first. Errors: those of
// shipment.AuditFilter.Check; request.bad_cursor (invalid).
func (s *Settings) Audit(ctx context.Context, f shipment.AuditFilter) (tracking.Page[shipment.AuditEntry], error) {
	if err := f.Check(); err != nil {
		return tracking.Page[shipment.AuditEntry]{Items: []shipment.AuditEntry{}}, err
	}
	return s.Store.Audit(ctx, f)
}

// HallSlots returns a hall's slots, sorted, and its slot setting: admins
// any hall's, staff their own. Errors: those of shipment.HallFor.
func (s *Settings) HallSlots(ctx context.Context, a shipment.Actor, site string) (shipment.HallSlots, error) {
	if _, err := shipment.HallFor(a, site, s.Sites.Site); err != nil {
		return shipment.HallSlots{}, err
	}
	return s.Slots.HallSlots(ctx, site)
}

// SetHallSlots replaces a hall's list of slots and its slot setting
// (admins). Errors: auth.forbidden, those of shipment.HallFor and of
// shipment.HallSlots.Normalize; slot.in_use (conflict).
func (s *Settings) SetHallSlots(ctx context.Context, a shipment.Actor, site string, in shipment.HallSlots) (shipment.HallSlots, error) {
	if err := shipment.CheckAdmin(a); err != nil {
		return shipment.HallSlots{}, err
	}
	if _, err := shipment.HallFor(a, site, s.Sites.Site); err != nil {
		return shipment.HallSlots{}, err
	}
	if err := in.Normalize(); err != nil {
		return shipment.HallSlots{}, err
	}
	in.Site = site
	return s.Slots.ReplaceHallSlots(ctx, a, site, in)
}

// SlotLabel returns the shelf tag of one of a hall's slots.
//
// Errors: those of shipment.HallFor and shipment.ParseSlot; slot.unknown
// (not found).
func (s *Settings) SlotLabel(ctx context.Context, a shipment.Actor, site, raw string) (labels.SlotLabel, error) {
	h, err := shipment.HallFor(a, site, s.Sites.Site)
	if err != nil {
		return labels.SlotLabel{}, err
	}
	slot, err := shipment.ParseSlot(raw)
	if err != nil {
		return labels.SlotLabel{}, err
	}
	known, err := s.Slots.HasSlot(ctx, site, slot)
	if err != nil {
		return labels.SlotLabel{}, err
	}
	if !known {
		return labels.SlotLabel{}, apperr.New(apperr.NotFound, "slot.unknown").With("slot", slot).With("site", site)
	}
	return labels.SlotLabel{Slot: slot, Hall: labels.Place{Code: h.Code, Name: h.NameZH}}, nil
}

// SaveLeg creates a leg (ID 0) or changes one (admins). Errors:
// auth.forbidden, those of shipment.CheckLeg and schedule.Parse (invalid),
// route.duplicate (conflict), route.not_found.
func (s *Settings) SaveLeg(ctx context.Context, by shipment.Actor, l shipment.Leg) (shipment.Leg, error) {
	if err := shipment.CheckAdmin(by); err != nil {
		return l, err
	}
	if err := shipment.CheckLeg(l, s.Sites.SiteKind, validSchedule); err != nil {
		return l, err
	}
	return s.Legs.SaveLeg(ctx, by, l)
}

// SetCalendarDay records a holiday or a make-up working day (admins), and
// returns the note as kept. Errors: auth.forbidden, those of
// schedule.CheckDayEdit.
func (s *Settings) SetCalendarDay(ctx context.Context, by shipment.Actor, day, kind, note string) (string, error) {
	if err := shipment.CheckAdmin(by); err != nil {
		return "", err
	}
	note, err := schedule.CheckDayEdit(day, schedule.DayKind(kind), note)
	if err != nil {
		return "", err
	}
	return note, s.Schedules.SetCalendarDay(ctx, by, day, kind, note)
}

// ClearCalendarDay removes a day's exception (admins): the day counts as
// the weekday rule says again. Errors: auth.forbidden,
// calendar.date_invalid.
func (s *Settings) ClearCalendarDay(ctx context.Context, by shipment.Actor, day string) error {
	if err := shipment.CheckAdmin(by); err != nil {
		return err
	}
	if _, err := schedule.ParseDate(day); err != nil {
		return err
	}
	return s.Schedules.SetCalendarDay(ctx, by, day, "", "")
}

// SaveJob changes a job's settings (admins). Errors: auth.forbidden, those
// of schedule.Parse and tracking.CheckJobParams (invalid), job.not_found.
func (s *Settings) SaveJob(ctx context.Context, by shipment.Actor, name string, enabled bool, spec string,
	params []byte) (tracking.JobSetting, error) {
	if err := shipment.CheckAdmin(by); err != nil {
		return tracking.JobSetting{}, err
	}
	if err := validSchedule(spec); err != nil {
		return tracking.JobSetting{}, err
	}
	kept, err := tracking.CheckJobParams(json.RawMessage(params))
	if err != nil {
		return tracking.JobSetting{}, err
	}
	return s.Schedules.SaveJobSetting(ctx, by, tracking.JobSetting{Name: name, Enabled: enabled, Schedule: spec, Params: kept})
}

// validSchedule checks a schedule expression (schedule.Parse).
func validSchedule(spec string) error {
	_, err := schedule.Parse(spec)
	return err
}
