package schedule

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/changchun-gov/courier/internal/apperr"
)

// DayKind overrides the plain Monday–Friday rule for one civil date.
type DayKind string

// The day kinds a Calendar knows.
const (
	// Closed is a holiday: no runs, even on a weekday (e.g. 2026-10-01,
	// National Day).
	Closed DayKind = "closed"
	// Workday is an extra working day: runs even on a Saturday or Sunday
	// (e.g. a make-up weekend day of 调休).
	Workday DayKind = "workday"
)

// Valid reports whether k is one of the known kinds.
func (k DayKind) Valid() bool { return k == Closed || k == Workday }

// MaxNoteRunes is the longest note a calendar day may carry ("国庆节").
const MaxNoteRunes = 100

// CheckDayEdit checks an administrator's edit of the calendar: the day, its
// kind (Closed or Workday) and its note, which it returns trimmed.
//
// Errors: calendar.date_invalid, calendar.kind_unknown,
// parcel.text_too_long (invalid).
func CheckDayEdit(day string, kind DayKind, note string) (string, error) {
	if _, err := ParseDate(day); err != nil {
		return "", err
	}
	if !kind.Valid() {
		return "", apperr.New(apperr.Invalid, "calendar.kind_unknown").OnField("kind").With("kind", string(kind)).With("date", day)
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxNoteRunes {
		return "", apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("note").With("field", "note")
	}
	return note, nil
}

// dateLayout is the one accepted spelling of a Date: "2026-10-01".
const dateLayout = "2006-01-02"

// Date is a civil date in Beijing time (no time of day, no zone).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in Beijing time (Location), whatever
// t's own zone is.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Location).Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses "YYYY-MM-DD" (exactly that form, a real calendar date).
// The error is apperr.Invalid "calendar.date_invalid" with Arg "date".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || len(s) != len(dateLayout) {
		return Date{}, apperr.New(apperr.Invalid, "calendar.date_invalid").With("date", s)
	}
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}, nil
}

// String returns the date as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Calendar holds the exceptions to the Monday–Friday rule: holidays (Closed)
// and make-up working days (Workday). It is immutable once built and safe for
// concurrent use. A nil *Calendar is valid and means "no exceptions".
type Calendar struct {
	days     map[Date]DayKind
	everyDay bool
}

// EveryDay is a calendar on which every day counts, for housekeeping jobs
// (reminders, returns, purges) that run on weekends and holidays too.
var EveryDay = &Calendar{everyDay: true}

// NewCalendar builds a Calendar from entries keyed "YYYY-MM-DD". An empty or
// nil map gives a calendar with no exceptions. Errors (apperr.Invalid):
// "calendar.date_invalid" with Arg "date" for a malformed key, and
// "calendar.kind_unknown" with Args "date" and "kind" for a kind other than
// Closed or Workday. Keys are checked in sorted order, so the error reported
// for a map with several bad entries is deterministic.
func NewCalendar(days map[string]DayKind) (*Calendar, error) {
	keys := make([]string, 0, len(days))
	for k := range days {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	c := &Calendar{days: make(map[Date]DayKind, len(days))}
	for _, s := range keys {
		d, err := ParseDate(s)
		if err != nil {
			return nil, err
		}
		k := days[s]
		if !k.Valid() {
			return nil, apperr.New(apperr.Invalid, "calendar.kind_unknown").
				With("date", s).With("kind", string(k))
		}
		c.days[d] = k
	}
	return c, nil
}

// Kind returns the exception recorded for d, if any.
func (c *Calendar) Kind(d Date) (DayKind, bool) {
	if c == nil {
		return "", false
	}
	k, ok := c.days[d]
	return k, ok
}

// CountsDate reports whether runs happen on d: a Workday entry counts, a
// Closed entry does not, and otherwise Monday–Friday count while Saturday and
// Sunday do not.
func (c *Calendar) CountsDate(d Date) bool {
	if c != nil && c.everyDay {
		return true
	}
	if k, ok := c.Kind(d); ok {
		return k == Workday
	}
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	default:
		return true
	}
}

// Counts reports whether the day of t, taken in Beijing time, counts (see
// CountsDate). 23:00 UTC on a Sunday is Monday morning in Beijing and counts.
func (c *Calendar) Counts(t time.Time) bool {
	return c.CountsDate(DateOf(t))
}
