package schedule

import (
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

// bj is an instant given in Beijing wall-clock time.
func bj(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Location)
}

// newYork is a zone far from Beijing, to show results do not depend on the
// zone of the times passed in.
var newYork = mustLoadLocation("America/New_York")

// testCalendar is modeled on the 2026 National Day arrangement: 1–7 October
// off, with Sunday 20 September and Saturday 10 October worked instead.
func testCalendar(t *testing.T) *Calendar {
	t.Helper()
	cal, err := NewCalendar(map[string]DayKind{
		"2026-09-20": Workday,
		"2026-10-01": Closed,
		"2026-10-02": Closed,
		"2026-10-03": Closed,
		"2026-10-04": Closed,
		"2026-10-05": Closed,
		"2026-10-06": Closed,
		"2026-10-07": Closed,
		"2026-10-10": Workday,
	})
	if err != nil {
		t.Fatalf("NewCalendar: %v", err)
	}
	return cal
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2026-10-01", Date{2026, time.October, 1}, true},
		{"2024-02-29", Date{2024, time.February, 29}, true},
		{"2026-02-29", Date{}, false},
		{"2026-02-30", Date{}, false},
		{"2026-13-01", Date{}, false},
		{"2026-1-1", Date{}, false},
		{"2026/10/01", Date{}, false},
		{" 2026-10-01", Date{}, false},
		{"2026-10-01T00:00:00Z", Date{}, false},
		{"", Date{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDate(tc.in)
			if !tc.ok {
				e := apperr.As(err)
				if e == nil || e.Kind != apperr.Invalid || e.Code != "calendar.date_invalid" || e.Args["date"] != tc.in {
					t.Fatalf("ParseDate(%q) error = %v, want invalid calendar.date_invalid with date", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseDate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestDateOfUsesBeijing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		want Date
	}{
		{"utc evening is next beijing day", time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), Date{2026, time.October, 1}},
		{"utc just before", time.Date(2026, 9, 30, 15, 59, 59, 0, time.UTC), Date{2026, time.September, 30}},
		{"new york noon", time.Date(2026, 9, 30, 12, 0, 0, 0, newYork), Date{2026, time.October, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := DateOf(tc.at); got != tc.want {
				t.Fatalf("DateOf(%v) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

func TestNewCalendarErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		days     map[string]DayKind
		code     string
		date     string
		wantKind string
	}{
		{"bad date", map[string]DayKind{"2026-02-30": Closed}, "calendar.date_invalid", "2026-02-30", ""},
		{"unknown kind", map[string]DayKind{"2026-10-01": "holiday"}, "calendar.kind_unknown", "2026-10-01", "holiday"},
		{"empty kind", map[string]DayKind{"2026-10-01": ""}, "calendar.kind_unknown", "2026-10-01", ""},
		{"first bad key in sorted order", map[string]DayKind{"2026-10-09": "x", "2026-10-0": Closed, "2026-10-08": "y"}, "calendar.date_invalid", "2026-10-0", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cal, err := NewCalendar(tc.days)
			e := apperr.As(err)
			if cal != nil || e == nil || e.Kind != apperr.Invalid || e.Code != tc.code {
				t.Fatalf("NewCalendar = %v, %v; want invalid %s", cal, err, tc.code)
			}
			if e.Args["date"] != tc.date {
				t.Errorf("date arg = %v, want %q", e.Args["date"], tc.date)
			}
			if tc.code == "calendar.kind_unknown" && e.Args["kind"] != tc.wantKind {
				t.Errorf("kind arg = %v, want %q", e.Args["kind"], tc.wantKind)
			}
		})
	}
}

func TestNewCalendarEmpty(t *testing.T) {
	t.Parallel()
	cal, err := NewCalendar(nil)
	if err != nil || cal == nil {
		t.Fatalf("NewCalendar(nil) = %v, %v", cal, err)
	}
	if !cal.Counts(bj(2026, 10, 1, 10, 0)) || cal.Counts(bj(2026, 10, 3, 10, 0)) {
		t.Fatal("empty calendar should apply the Monday–Friday rule")
	}
}

func TestCounts(t *testing.T) {
	t.Parallel()
	cal := testCalendar(t)
	tests := []struct {
		name    string
		at      time.Time
		withCal bool
		noCal   bool // result with a nil *Calendar
	}{
		{"monday", bj(2026, 9, 28, 9, 30), true, true},
		{"friday", bj(2026, 9, 25, 14, 30), true, true},
		{"saturday", bj(2026, 9, 26, 9, 30), false, false},
		{"sunday", bj(2026, 9, 27, 9, 30), false, false},
		{"closed thursday, national day", bj(2026, 10, 1, 9, 30), false, true},
		{"closed weekend stays closed", bj(2026, 10, 3, 9, 30), false, false},
		{"workday saturday", bj(2026, 10, 10, 9, 30), true, false},
		{"workday sunday", bj(2026, 9, 20, 14, 30), true, false},
		{"sunday 23:00Z is monday in beijing", time.Date(2026, 9, 27, 23, 0, 0, 0, time.UTC), true, true},
		{"friday 16:30Z is saturday in beijing", time.Date(2026, 9, 25, 16, 30, 0, 0, time.UTC), false, false},
		{"new york tuesday evening is national day", time.Date(2026, 9, 30, 20, 0, 0, 0, newYork), false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := cal.Counts(tc.at); got != tc.withCal {
				t.Errorf("cal.Counts(%v) = %v, want %v", tc.at, got, tc.withCal)
			}
			var none *Calendar
			if got := none.Counts(tc.at); got != tc.noCal {
				t.Errorf("nil.Counts(%v) = %v, want %v", tc.at, got, tc.noCal)
			}
		})
	}
}

func TestCalendarKind(t *testing.T) {
	t.Parallel()
	cal := testCalendar(t)
	if k, ok := cal.Kind(Date{2026, time.October, 10}); !ok || k != Workday {
		t.Errorf("Kind(2026-10-10) = %q, %v", k, ok)
	}
	if k, ok := cal.Kind(Date{2026, time.October, 8}); ok {
		t.Errorf("Kind(2026-10-08) = %q, %v; want none", k, ok)
	}
	var none *Calendar
	if _, ok := none.Kind(Date{2026, time.October, 1}); ok {
		t.Error("nil calendar has no entries")
	}
}

func TestEveryDayCountsWeekendsAndHolidays(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"2026-10-01", "2026-11-28", "2026-11-29", "2026-11-30"} {
		date, err := ParseDate(d)
		if err != nil {
			t.Fatal(err)
		}
		if !EveryDay.CountsDate(date) {
			t.Errorf("%s does not count", d)
		}
	}
}
