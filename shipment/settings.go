package shipment

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/changchun-gov/courier/internal/apperr"
)

// QuietHours is a window of Beijing time ("HH:MM", 24-hour) in which a hall
// sends no SMS. It may run past midnight (21:00–08:00); Start is inside it,
// End is not.
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

var clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// minutes is the time of day "HH:MM" in minutes after midnight.
func minutes(hhmm string) int {
	return int(hhmm[0]-'0')*600 + int(hhmm[1]-'0')*60 + int(hhmm[3]-'0')*10 + int(hhmm[4]-'0')
}

// Validate checks the window. Errors: site.quiet_hours_invalid (invalid).
func (q QuietHours) Validate() error {
	if !clockRe.MatchString(q.Start) || !clockRe.MatchString(q.End) || q.Start == q.End {
		return apperr.New(apperr.Invalid, "site.quiet_hours_invalid").OnField("quiet_hours").
			With("start", q.Start).With("end", q.End)
	}
	return nil
}

// Contains reports whether t falls in the window, read in Beijing time. A
// nil window contains nothing.
func (q *QuietHours) Contains(t time.Time) bool {
	if q == nil || q.Validate() != nil {
		return false
	}
	bj := t.In(chinaTime)
	m, start, end := bj.Hour()*60+bj.Minute(), minutes(q.Start), minutes(q.End)
	if start < end {
		return m >= start && m < end
	}
	return m >= start || m < end
}

// MaxNoticeLen is the longest notice board text, in characters.
const MaxNoticeLen = 200

// SiteEdit is an administrator's change to a site. Fields left out (nil)
// keep their value; the code and kind never change. Quiet hours with an
// empty start and end clear them.
type SiteEdit struct {
	NameZH     *string     `json:"name_zh,omitempty"`
	NameEN     *string     `json:"name_en,omitempty"`
	Province   *string     `json:"province,omitempty"`
	City       *string     `json:"city,omitempty"`
	District   *string     `json:"district,omitempty"`
	Street     *string     `json:"street,omitempty"`
	Detail     *string     `json:"detail,omitempty"`
	Phone      *string     `json:"phone,omitempty"`
	HoursZH    *string     `json:"opening_hours_zh,omitempty"`
	HoursEN    *string     `json:"opening_hours_en,omitempty"`
	Active     *bool       `json:"active,omitempty"`
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	NoticeZH   *string     `json:"board_notice_zh,omitempty"`
	NoticeEN   *string     `json:"board_notice_en,omitempty"`
}

var sitePhoneRe = regexp.MustCompile(`^[0-9][0-9-]{4,19}$`)

// Apply returns s changed by e, trimmed and checked. Errors (invalid):
// site.name_required, site.text_too_long (field), site.phone_invalid,
// site.quiet_hours_invalid, site.notice_too_long, site.hall_setting_only.
func (e SiteEdit) Apply(s Site) (Site, error) {
	text := func(dst *string, v *string, field string, max int, required bool) error {
		if v == nil {
			return nil
		}
		t := strings.TrimSpace(*v)
		if required && t == "" {
			return apperr.New(apperr.Invalid, "site.name_required").OnField(field)
		}
		if utf8.RuneCountInString(t) > max || strings.ContainsRune(t, 0) {
			return apperr.New(apperr.Invalid, "site.text_too_long").OnField(field).With("field", field).With("max", max)
		}
		*dst = t
		return nil
	}
	for _, f := range []struct {
		dst      *string
		v        *string
		field    string
		max      int
		required bool
	}{
		{&s.NameZH, e.NameZH, "name_zh", 100, true},
		{&s.NameEN, e.NameEN, "name_en", 200, true},
		{&s.Province, e.Province, "province", 50, true},
		{&s.City, e.City, "city", 50, true},
		{&s.District, e.District, "district", 50, true},
		{&s.Street, e.Street, "street", 100, false},
		{&s.Detail, e.Detail, "detail", 200, false},
		{&s.Phone, e.Phone, "phone", 20, false},
		{&s.HoursZH, e.HoursZH, "opening_hours_zh", 200, false},
		{&s.HoursEN, e.HoursEN, "opening_hours_en", 200, false},
	} {
		if err := text(f.dst, f.v, f.field, f.max, f.required); err != nil {
			return s, err
		}
	}
	if e.Phone != nil && s.Phone != "" && !sitePhoneRe.MatchString(s.Phone) {
		return s, apperr.New(apperr.Invalid, "site.phone_invalid").OnField("phone")
	}
	if e.Active != nil {
		s.Active = *e.Active
	}
	hallOnly := func(field string) error {
		if s.Kind != SiteHall {
			return apperr.New(apperr.Invalid, "site.hall_setting_only").OnField(field).With("site", s.Code)
		}
		return nil
	}
	if q := e.QuietHours; q != nil {
		q := QuietHours{Start: strings.TrimSpace(q.Start), End: strings.TrimSpace(q.End)}
		switch {
		case q.Start == "" && q.End == "":
			s.QuietHours = nil
		case hallOnly("quiet_hours") != nil:
			return s, hallOnly("quiet_hours")
		case q.Validate() != nil:
			return s, q.Validate()
		default:
			s.QuietHours = &q
		}
	}
	for _, n := range []struct {
		dst   *string
		v     *string
		field string
	}{{&s.NoticeZH, e.NoticeZH, "board_notice_zh"}, {&s.NoticeEN, e.NoticeEN, "board_notice_en"}} {
		if n.v == nil {
			continue
		}
		t := strings.TrimSpace(*n.v)
		if t != "" {
			if err := hallOnly(n.field); err != nil {
				return s, err
			}
		}
		if utf8.RuneCountInString(t) > MaxNoticeLen || strings.ContainsRune(t, 0) {
			return s, apperr.New(apperr.Invalid, "site.notice_too_long").OnField(n.field).With("max", MaxNoticeLen)
		}
		*n.dst = t
	}
	return s, nil
}

// AuditEntry is one administrator's change as the audit log keeps it.
type AuditEntry struct {
	ID            int64           `json:"id"`
	At            time.Time       `json:"at"`
	ActorID       int64           `json:"actor_id,omitempty"`
	ActorUsername string          `json:"actor_username"`
	ActorRole     Role            `json:"actor_role"`
	Entity        string          `json:"entity"`
	Key           string          `json:"key"`
	Action        string          `json:"action"`
	Before        json.RawMessage `json:"before"`
	After         json.RawMessage `json:"after"`
}

// AuditFilter narrows the audit log: one entity, a time range [From, To),
// and a page after Cursor.
type AuditFilter struct {
	Entity   string
	From, To *time.Time
	Cursor   string
	Limit    int
}

var auditEntityRe = regexp.MustCompile(`^[a-z][a-z_]{1,31}$`)

// Check checks a filter as a request gives it: an entity's name is lower
// case letters and underscores; a time range does not end before it starts.
//
// Errors: request.bad_query (invalid).
func (f AuditFilter) Check() error {
	if f.Entity != "" && !auditEntityRe.MatchString(f.Entity) {
		return apperr.New(apperr.Invalid, "request.bad_query").OnField("entity").With("field", "entity")
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		return apperr.New(apperr.Invalid, "request.bad_query").OnField("to").With("field", "to")
	}
	return nil
}
