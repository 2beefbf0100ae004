package shipment

import (
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

func TestQuietHoursContains(t *testing.T) {
	at := func(hhmm string) time.Time {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", "2026-12-02 "+hhmm, chinaTime)
		return tm.UTC() // the zone of t does not matter
	}
	night := &QuietHours{Start: "21:00", End: "08:00"}
	noon := &QuietHours{Start: "12:00", End: "13:30"}
	for _, c := range []struct {
		q    *QuietHours
		at   string
		want bool
	}{
		{night, "21:00", true}, {night, "23:59", true}, {night, "00:00", true}, {night, "07:59", true},
		{night, "08:00", false}, {night, "20:59", false}, {night, "12:00", false},
		{noon, "12:00", true}, {noon, "13:29", true}, {noon, "13:30", false}, {noon, "11:59", false},
		{nil, "03:00", false}, {&QuietHours{Start: "25:00", End: "08:00"}, "03:00", false},
	} {
		if got := c.q.Contains(at(c.at)); got != c.want {
			t.Errorf("%v contains %s: %v, want %v", c.q, c.at, got, c.want)
		}
	}
}

func TestSiteEditApply(t *testing.T) {
	hall := Site{Code: "NG-HALL", Kind: SiteHall, NameZH: "南关区政务服务中心", NameEN: "Nanguan", Province: "吉林省", City: "长春市",
		District: "南关区", Active: true, QuietHours: &QuietHours{Start: "21:00", End: "08:00"}}
	dept := Site{Code: "D-SW", Kind: SiteDepartment, NameZH: "长春市商务局", NameEN: "Commerce", Province: "吉林省", City: "长春市", District: "南关区", Active: true}
	s := func(v string) *string { return &v }
	got, err := SiteEdit{NameZH: s("  新名字 "), NoticeZH: s(" 通知 "), Active: new(bool)}.Apply(hall)
	if err != nil || got.NameZH != "新名字" || got.NoticeZH != "通知" || got.Active || got.NameEN != "Nanguan" || got.QuietHours.Start != "21:00" {
		t.Fatalf("apply: %+v %v", got, err)
	}
	if got, err := (SiteEdit{QuietHours: &QuietHours{}}).Apply(hall); err != nil || got.QuietHours != nil {
		t.Fatalf("clearing quiet hours: %+v %v", got, err)
	}
	if got, err := (SiteEdit{NoticeZH: s("")}).Apply(dept); err != nil || got.NoticeZH != "" {
		t.Fatalf("an empty notice on a department: %+v %v", got, err)
	}
	for _, c := range []struct {
		name  string
		site  Site
		e     SiteEdit
		code  string
		field string
	}{
		{"EmptyName", hall, SiteEdit{NameZH: s(" ")}, "site.name_required", "name_zh"},
		{"LongStreet", hall, SiteEdit{Street: s(strings.Repeat("路", 101))}, "site.text_too_long", "street"},
		{"Phone", hall, SiteEdit{Phone: s("call me")}, "site.phone_invalid", "phone"},
		{"QuietSame", hall, SiteEdit{QuietHours: &QuietHours{Start: "08:00", End: "08:00"}}, "site.quiet_hours_invalid", "quiet_hours"},
		{"QuietFormat", hall, SiteEdit{QuietHours: &QuietHours{Start: "9:00", End: "18:00"}}, "site.quiet_hours_invalid", "quiet_hours"},
		{"QuietHalf", hall, SiteEdit{QuietHours: &QuietHours{Start: "21:00"}}, "site.quiet_hours_invalid", "quiet_hours"},
		{"QuietDept", dept, SiteEdit{QuietHours: &QuietHours{Start: "21:00", End: "08:00"}}, "site.hall_setting_only", "quiet_hours"},
		{"NoticeDept", dept, SiteEdit{NoticeEN: s("closed")}, "site.hall_setting_only", "board_notice_en"},
		{"NoticeLong", hall, SiteEdit{NoticeZH: s(strings.Repeat("告", 201))}, "site.notice_too_long", "board_notice_zh"},
	} {
		_, err := c.e.Apply(c.site)
		if e := apperr.As(err); e == nil || e.Code != c.code || e.Field != c.field || e.Kind != apperr.Invalid {
			t.Errorf("%s: %v, want %s on %s", c.name, err, c.code, c.field)
		}
	}
	if _, err := (SiteEdit{NoticeZH: s(strings.Repeat("告", 200))}).Apply(hall); err != nil {
		t.Errorf("a notice of 200 characters: %v", err)
	}
}

func TestAuditFilterCheck(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(-time.Hour)
	for name, c := range map[string]struct {
		f    AuditFilter
		code string
	}{
		"all":              {AuditFilter{}, ""},
		"an entity":        {AuditFilter{Entity: "hall_slots"}, ""},
		"not an entity":    {AuditFilter{Entity: "Site;"}, "request.bad_query"},
		"a range":          {AuditFilter{From: &to, To: &from}, ""},
		"a range reversed": {AuditFilter{From: &from, To: &to}, "request.bad_query"},
	} {
		err := c.f.Check()
		if (err == nil) != (c.code == "") || (err != nil && apperr.CodeOf(err) != c.code) {
			t.Errorf("%s: %v, want %q", name, err, c.code)
		}
	}
}
