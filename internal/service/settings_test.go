package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// settingsStore records what reached it: a refused edit must not.
type settingsStore struct {
	calls []string
	site  shipment.Site
}

func (s *settingsStore) SaveSite(_ context.Context, _ shipment.Actor, code string,
	change func(shipment.Site) (shipment.Site, error)) (shipment.Site, error) {
	s.calls = append(s.calls, "site "+code)
	return change(s.site)
}
func (s *settingsStore) Audit(context.Context, shipment.AuditFilter) (tracking.Page[shipment.AuditEntry], error) {
	return tracking.Page[shipment.AuditEntry]{}, nil
}
func (s *settingsStore) HallSlots(_ context.Context, site string) (shipment.HallSlots, error) {
	s.calls = append(s.calls, "read slots "+site)
	return shipment.HallSlots{Site: site, Slots: []string{"A-01"}}, nil
}
func (s *settingsStore) ReplaceHallSlots(_ context.Context, _ shipment.Actor, site string, in shipment.HallSlots) (shipment.HallSlots, error) {
	s.calls = append(s.calls, "slots "+site+" "+strings.Join(in.Slots, ","))
	return in, nil
}
func (s *settingsStore) HasSlot(_ context.Context, _, slot string) (bool, error) {
	return slot == "A-01", nil
}
func (s *settingsStore) SaveLeg(_ context.Context, _ shipment.Actor, l shipment.Leg) (shipment.Leg, error) {
	s.calls = append(s.calls, "leg "+l.From+"-"+l.To)
	return l, nil
}
func (s *settingsStore) SetCalendarDay(_ context.Context, _ shipment.Actor, day, kind, note string) error {
	s.calls = append(s.calls, "day "+day+" "+kind+" "+note)
	return nil
}
func (s *settingsStore) SaveJobSetting(_ context.Context, _ shipment.Actor, j tracking.JobSetting) (tracking.JobSetting, error) {
	s.calls = append(s.calls, "job "+j.Name+" "+string(j.Params))
	return j, nil
}

type refSites map[string]shipment.Site

func (r refSites) Site(code string) (shipment.Site, bool) { s, ok := r[code]; return s, ok }
func (r refSites) SiteKind(code string) (shipment.SiteKind, bool) {
	s, ok := r[code]
	return s.Kind, ok
}

// Every administrator's edit is checked here, before anything reaches the
// store: who may make it, and what it may say. What passes reaches the store
// as it is kept (trimmed, normalised).
func TestSettingsRules(t *testing.T) {
	sites := refSites{
		"ED-HALL": {Code: "ED-HALL", Kind: shipment.SiteHall, NameZH: "二道区政务服务中心"},
		"NG-HALL": {Code: "NG-HALL", Kind: shipment.SiteHall, NameZH: "南关区政务服务中心"},
		"D-SW":    {Code: "D-SW", Kind: shipment.SiteDepartment, NameZH: "长春市商务局"},
		"CC-HUB":  {Code: "CC-HUB", Kind: shipment.SiteHub, NameZH: "物料流转区"},
	}
	admin := shipment.Actor{ID: 1, Role: shipment.RoleAdmin}
	staff := shipment.Actor{ID: 4, Role: shipment.RoleStaff, Site: "ED-HALL"}
	lead := shipment.Actor{ID: 5, Role: shipment.RoleHallLead, Site: "ED-HALL"}
	leg := shipment.Leg{From: "D-SW", To: "CC-HUB", Schedule: "30 9,14 * * *", SLAHours: 24, Active: true}
	for name, c := range map[string]struct {
		do   func(*Settings) error
		code string // "" when it must pass
		call string // what the store was asked, when it passed
	}{
		"site by staff": {func(s *Settings) error {
			_, err := s.SaveSite(context.Background(), staff, "ED-HALL", shipment.SiteEdit{NoticeZH: new("停电")})
			return err
		}, "auth.forbidden", ""},
		"site by an admin": {func(s *Settings) error {
			_, err := s.SaveSite(context.Background(), admin, "ED-HALL", shipment.SiteEdit{NoticeZH: new("停电")})
			return err
		}, "", "site ED-HALL"},
		"slots by a hall lead": {func(s *Settings) error {
			_, err := s.SetHallSlots(context.Background(), lead, "ED-HALL", shipment.HallSlots{Slots: []string{"A-01"}})
			return err
		}, "auth.forbidden", ""},
		"slots of a department": {func(s *Settings) error {
			_, err := s.SetHallSlots(context.Background(), admin, "D-SW", shipment.HallSlots{Slots: []string{"A-01"}})
			return err
		}, "site.wrong_kind", ""},
		"slots of no site": {func(s *Settings) error {
			_, err := s.SetHallSlots(context.Background(), admin, "XX-HALL", shipment.HallSlots{Slots: []string{"A-01"}})
			return err
		}, "site.unknown", ""},
		"slots mistyped": {func(s *Settings) error {
			_, err := s.SetHallSlots(context.Background(), admin, "ED-HALL", shipment.HallSlots{Slots: []string{"A_01"}})
			return err
		}, "slot.invalid", ""},
		"slots normalised": {func(s *Settings) error {
			_, err := s.SetHallSlots(context.Background(), admin, "ED-HALL", shipment.HallSlots{Slots: []string{" b-2", "a-01", "A-01"}})
			return err
		}, "", "slots ED-HALL A-01,B-2"},
		"another hall's slots read by staff": {func(s *Settings) error {
			_, err := s.HallSlots(context.Background(), staff, "NG-HALL")
			return err
		}, "site.not_yours", ""},
		"own hall's slots read by staff": {func(s *Settings) error {
			_, err := s.HallSlots(context.Background(), staff, "ED-HALL")
			return err
		}, "", "read slots ED-HALL"},
		"a slot's tag not kept": {func(s *Settings) error {
			_, err := s.SlotLabel(context.Background(), staff, "ED-HALL", "B-9")
			return err
		}, "slot.unknown", ""},
		"leg by staff": {func(s *Settings) error {
			_, err := s.SaveLeg(context.Background(), staff, leg)
			return err
		}, "auth.forbidden", ""},
		"leg to itself": {func(s *Settings) error {
			l := leg
			l.To = l.From
			_, err := s.SaveLeg(context.Background(), admin, l)
			return err
		}, "route.same_site", ""},
		"leg promising a year": {func(s *Settings) error {
			l := leg
			l.SLAHours = 24 * 365
			_, err := s.SaveLeg(context.Background(), admin, l)
			return err
		}, "route.sla_invalid", ""},
		"leg on no schedule": {func(s *Settings) error {
			l := leg
			l.Schedule = "every now and then"
			_, err := s.SaveLeg(context.Background(), admin, l)
			if e := apperr.As(err); e != nil && e.Field != "schedule" {
				t.Errorf("leg on no schedule: field %q, want schedule", e.Field)
			}
			return err
		}, "schedule.invalid", ""},
		"leg by an admin": {func(s *Settings) error {
			_, err := s.SaveLeg(context.Background(), admin, leg)
			return err
		}, "", "leg D-SW-CC-HUB"},
		"day by staff": {func(s *Settings) error {
			_, err := s.SetCalendarDay(context.Background(), staff, "2027-01-01", "closed", "元旦")
			return err
		}, "auth.forbidden", ""},
		"day of no kind": {func(s *Settings) error {
			_, err := s.SetCalendarDay(context.Background(), admin, "2027-01-01", "holiday", "元旦")
			return err
		}, "calendar.kind_unknown", ""},
		"day with no kind": {func(s *Settings) error {
			_, err := s.SetCalendarDay(context.Background(), admin, "2027-01-01", "", "")
			return err
		}, "calendar.kind_unknown", ""},
		"day that is not": {func(s *Settings) error {
			_, err := s.SetCalendarDay(context.Background(), admin, "2027-02-30", "closed", "")
			return err
		}, "calendar.date_invalid", ""},
		"day with a long note": {func(s *Settings) error {
			_, err := s.SetCalendarDay(context.Background(), admin, "2027-01-01", "closed", strings.Repeat("假", 101))
			return err
		}, "parcel.text_too_long", ""},
		"day trimmed": {func(s *Settings) error {
			note, err := s.SetCalendarDay(context.Background(), admin, "2027-01-01", "closed", "  元旦 ")
			if note != "元旦" {
				t.Errorf("day trimmed: note %q", note)
			}
			return err
		}, "", "day 2027-01-01 closed 元旦"},
		"day cleared by staff": {func(s *Settings) error {
			return s.ClearCalendarDay(context.Background(), staff, "2027-01-01")
		}, "auth.forbidden", ""},
		"day cleared": {func(s *Settings) error {
			return s.ClearCalendarDay(context.Background(), admin, "2027-01-01")
		}, "", "day 2027-01-01  "},
		"job by staff": {func(s *Settings) error {
			_, err := s.SaveJob(context.Background(), staff, tracking.JobPurge, true, "0 3 * * *", nil)
			return err
		}, "auth.forbidden", ""},
		"job with negative days": {func(s *Settings) error {
			_, err := s.SaveJob(context.Background(), admin, tracking.JobPurge, true, "0 3 * * *", []byte(`{"after_days":-1}`))
			return err
		}, "job.params_invalid", ""},
		"job with an unknown parameter": {func(s *Settings) error {
			_, err := s.SaveJob(context.Background(), admin, tracking.JobPurge, true, "0 3 * * *", []byte(`{"days":1}`))
			return err
		}, "job.params_invalid", ""},
		"job on no schedule": {func(s *Settings) error {
			_, err := s.SaveJob(context.Background(), admin, tracking.JobPurge, true, "61 3 * * *", nil)
			return err
		}, "schedule.invalid", ""},
		"job without parameters": {func(s *Settings) error {
			j, err := s.SaveJob(context.Background(), admin, tracking.JobPurge, true, "0 3 * * *", nil)
			if string(j.Params) != "{}" {
				t.Errorf("job without parameters: %s", j.Params)
			}
			return err
		}, "", "job purge {}"},
	} {
		st := &settingsStore{site: sites["ED-HALL"]}
		s := &Settings{Sites: sites, Store: st, Slots: st, Legs: st, Schedules: st}
		err := c.do(s)
		if (err == nil) != (c.code == "") || (err != nil && apperr.CodeOf(err) != c.code) {
			t.Errorf("%s: %v, want %q", name, err, c.code)
			continue
		}
		switch {
		case c.code != "" && len(st.calls) > 0:
			t.Errorf("%s: refused, yet the store was asked %v", name, st.calls)
		case c.code == "" && (len(st.calls) != 1 || st.calls[0] != c.call):
			t.Errorf("%s: the store was asked %q, want %q", name, st.calls, c.call)
		}
	}
}

// The parameters kept are those sent, byte for byte, once they are valid.
func TestCheckJobParamsKeepsWhatWasSent(t *testing.T) {
	raw := json.RawMessage(`{"first_after_days":3, "every_days":7}`)
	got, err := tracking.CheckJobParams(raw)
	if err != nil || string(got) != string(raw) {
		t.Fatalf("%s, %v", got, err)
	}
	if _, err := tracking.CheckJobParams(json.RawMessage(`[1]`)); apperr.CodeOf(err) != "job.params_invalid" {
		t.Fatalf("an array: %v", err)
	}
}

func (refSites) CertType(string) (shipment.CertType, bool) { return shipment.CertType{}, false }
