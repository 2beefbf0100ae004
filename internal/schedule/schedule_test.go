package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/changchun-gov/courier/internal/apperr"
)

// utc is an instant given in UTC.
func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func mustParse(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return s
}

// twice is the example route schedule: 09:30 and 14:30 Beijing time.
const twice = "30 9,14 * * *"

func sameTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) || a[i].Location() != time.UTC {
			return false
		}
	}
	return true
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec   string
		code   string
		detail string // substring of the "detail" arg, for schedule.invalid
	}{
		{"61 9 * * *", "schedule.invalid", "above maximum"},
		{"x", "schedule.invalid", "expected exactly 5 fields"},
		{"", "schedule.invalid", "empty"},
		{"   ", "schedule.invalid", "empty"},
		{"0 9 * * * *", "schedule.invalid", "expected exactly 5 fields"},
		{"0 25 * * *", "schedule.invalid", "above maximum"},
		{"0 9 * * mon-xyz", "schedule.invalid", ""},
		{"CRON_TZ=UTC 0 9 * * *", "schedule.invalid", "time zone"},
		{"CRON_TZ=Asia/Shanghai 0 9 * * *", "schedule.invalid", "time zone"},
		{"TZ=UTC 0 9 * * *", "schedule.invalid", "time zone"},
		{"TZ=UTC", "schedule.invalid", "time zone"}, // would panic inside robfig/cron v3.0.1
		{" CRON_TZ=UTC 0 9 * * *", "schedule.invalid", "time zone"},
		{"@every 1h", "schedule.invalid", "@every"},
		{"@fortnightly", "schedule.invalid", "unrecognized descriptor"},
		{"0 9 30 2 *", "schedule.invalid", "never fires"},
		{strings.Repeat("0,", 200) + "0 9 * * *", "schedule.invalid", "longer than"},
		{"* * * * *", "schedule.too_frequent", ""},
		{"*/5 9 * * *", "schedule.too_frequent", ""},
		{"0,5 9 * * 1-5", "schedule.too_frequent", ""},
		{"0,9 9 1 1 *", "schedule.too_frequent", ""},
		{"0,55 0,23 * * *", "schedule.too_frequent", ""},     // 23:55 then 00:00 the next day
		{"0,55 0,23 * * 1,2", "schedule.too_frequent", ""},   // Monday 23:55 then Tuesday 00:00
		{"0,55 0,23 28,29 2 *", "schedule.too_frequent", ""}, // only in leap years
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tc.spec)
			e := apperr.As(err)
			if s != nil || e == nil || e.Kind != apperr.Invalid || e.Code != tc.code {
				t.Fatalf("Parse(%q) = %v, %v; want invalid %s", tc.spec, s, err, tc.code)
			}
			if e.Args["schedule"] != tc.spec {
				t.Errorf("schedule arg = %v, want %q", e.Args["schedule"], tc.spec)
			}
			if tc.code == "schedule.invalid" {
				d, _ := e.Args["detail"].(string)
				if d == "" || !strings.Contains(d, tc.detail) {
					t.Errorf("detail arg = %q, want it to contain %q", d, tc.detail)
				}
			} else if e.Args["minutes"] != 10 {
				t.Errorf("minutes arg = %v, want 10", e.Args["minutes"])
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	// Each spec with the first slot after Monday 2026-09-28 12:00 Beijing
	// time (04:00Z), ignoring the calendar.
	from := bj(2026, 9, 28, 12, 0)
	tests := []struct {
		spec string
		next time.Time
	}{
		{twice, utc(2026, 9, 28, 6, 30)},
		{"  30 9,14 * * *  ", utc(2026, 9, 28, 6, 30)},
		{"30 9,14 * * mon-fri", utc(2026, 9, 28, 6, 30)},
		{"*/10 9 * * *", utc(2026, 9, 29, 1, 0)},
		{"0,55 0,23 * * 1", utc(2026, 9, 28, 15, 0)}, // Mondays only: 23:55 is followed by 00:00 a week later
		{"0 9 29 2 *", utc(2028, 2, 29, 1, 0)},
		{"@daily", utc(2026, 9, 28, 16, 0)}, // Beijing midnight
		{"@midnight", utc(2026, 9, 28, 16, 0)},
		{"@hourly", utc(2026, 9, 28, 5, 0)},
		{"@weekly", utc(2026, 10, 3, 16, 0)}, // Sunday 00:00 Beijing
		{"@monthly", utc(2026, 9, 30, 16, 0)},
		{"@yearly", utc(2026, 12, 31, 16, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, tc.spec)
			for _, in := range []time.Time{from, from.UTC(), from.In(newYork)} {
				if got := s.Next(in); !got.Equal(tc.next) {
					t.Errorf("Next(%v) = %v, want %v", in, got.UTC(), tc.next)
				}
			}
		})
	}
}

func TestSlots(t *testing.T) {
	t.Parallel()
	cal := testCalendar(t)
	s := mustParse(t, twice)
	daySlots := func(days ...time.Time) []time.Time {
		var out []time.Time
		for _, d := range days {
			y, m, dd := d.Date()
			out = append(out, bj(y, m, dd, 9, 30).UTC(), bj(y, m, dd, 14, 30).UTC())
		}
		return out
	}
	day := func(m time.Month, d int) time.Time { return bj(2026, m, d, 0, 0) }

	tests := []struct {
		name     string
		cal      *Calendar
		from, to time.Time
		want     []time.Time
	}{
		{
			name: "weekday gives 01:30Z and 06:30Z",
			from: bj(2026, 9, 28, 0, 0), to: bj(2026, 9, 28, 23, 59),
			want: []time.Time{utc(2026, 9, 28, 1, 30), utc(2026, 9, 28, 6, 30)},
		},
		{
			name: "weekend skipped",
			from: bj(2026, 9, 25, 12, 0), to: bj(2026, 9, 28, 12, 0),
			want: []time.Time{utc(2026, 9, 25, 6, 30), utc(2026, 9, 28, 1, 30)},
		},
		{
			name: "weekend only: nothing",
			from: day(9, 26), to: day(9, 28),
			want: nil,
		},
		{
			name: "from is exclusive, to is inclusive",
			from: bj(2026, 9, 28, 9, 30), to: bj(2026, 9, 29, 9, 30),
			want: []time.Time{utc(2026, 9, 28, 6, 30), utc(2026, 9, 29, 1, 30)},
		},
		{
			name: "empty range",
			from: bj(2026, 9, 28, 9, 0), to: bj(2026, 9, 28, 9, 0),
			want: nil,
		},
		{
			name: "reversed range",
			from: bj(2026, 9, 29, 0, 0), to: bj(2026, 9, 28, 0, 0),
			want: nil,
		},
		{
			name: "holiday fortnight, plain rule",
			from: day(9, 28), to: day(10, 12),
			want: daySlots(day(9, 28), day(9, 29), day(9, 30), day(10, 1), day(10, 2),
				day(10, 5), day(10, 6), day(10, 7), day(10, 8), day(10, 9)),
		},
		{
			name: "holiday fortnight: national day closed, make-up saturday worked",
			cal:  cal,
			from: day(9, 28), to: day(10, 12),
			want: daySlots(day(9, 28), day(9, 29), day(9, 30), day(10, 8), day(10, 9), day(10, 10)),
		},
		{
			name: "make-up sunday worked",
			cal:  cal,
			from: day(9, 19), to: day(9, 21),
			want: daySlots(day(9, 20)),
		},
		{
			name: "times in new york give the same slots",
			cal:  cal,
			from: day(9, 28).In(newYork), to: day(10, 12).In(newYork),
			want: daySlots(day(9, 28), day(9, 29), day(9, 30), day(10, 8), day(10, 9), day(10, 10)),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Slots(s, tc.cal, tc.from, tc.to)
			if !sameTimes(got, tc.want) {
				t.Fatalf("Slots = %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestSlotsBounded(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "*/10 * * * *")
	got := Slots(s, nil, utc(2026, 1, 1, 0, 0), utc(2036, 1, 1, 0, 0))
	if len(got) == 0 || len(got) > MaxSlots {
		t.Fatalf("len(Slots) = %d, want 1..%d", len(got), MaxSlots)
	}
	if Slots(nil, nil, utc(2026, 1, 1, 0, 0), utc(2026, 2, 1, 0, 0)) != nil {
		t.Fatal("nil schedule gives no slots")
	}
}

func TestLatest(t *testing.T) {
	t.Parallel()
	cal := testCalendar(t)
	s := mustParse(t, twice)
	tests := []struct {
		name     string
		cal      *Calendar
		now      time.Time
		lookback time.Duration
		want     time.Time
		ok       bool
	}{
		{"just before monday 09:30: friday 14:30", nil, bj(2026, 9, 28, 9, 29).Add(59 * time.Second), DefaultLookback, bj(2026, 9, 25, 14, 30), true},
		{"exactly at the slot: due", nil, bj(2026, 9, 28, 9, 30), DefaultLookback, bj(2026, 9, 28, 9, 30), true},
		{"half a second after", nil, bj(2026, 9, 28, 9, 30).Add(500 * time.Millisecond), DefaultLookback, bj(2026, 9, 28, 9, 30), true},
		{"just after", nil, bj(2026, 9, 28, 9, 31), DefaultLookback, bj(2026, 9, 28, 9, 30), true},
		{"before the afternoon slot", nil, bj(2026, 9, 28, 14, 29), DefaultLookback, bj(2026, 9, 28, 9, 30), true},
		{"saturday: friday 14:30", nil, bj(2026, 9, 26, 11, 0), DefaultLookback, bj(2026, 9, 25, 14, 30), true},
		{"lookback 0 means default", nil, bj(2026, 9, 28, 9, 0), 0, bj(2026, 9, 25, 14, 30), true},
		{"slot exactly lookback ago is included", nil, bj(2026, 9, 28, 10, 30), time.Hour, bj(2026, 9, 28, 9, 30), true},
		{"slot just older than lookback is not", nil, bj(2026, 9, 28, 10, 30), time.Hour - time.Nanosecond, time.Time{}, false},
		{"after national day, plain rule", nil, bj(2026, 10, 8, 8, 0), DefaultLookback, bj(2026, 10, 7, 14, 30), true},
		{"after national day: last slot before the holiday", cal, bj(2026, 10, 8, 8, 0), DefaultLookback, bj(2026, 9, 30, 14, 30), true},
		{"holiday longer than lookback: not caught up", cal, bj(2026, 10, 8, 8, 0), 7 * 24 * time.Hour, time.Time{}, false},
		{"make-up saturday afternoon", cal, bj(2026, 10, 10, 15, 0), DefaultLookback, bj(2026, 10, 10, 14, 30), true},
		{"now in new york", cal, bj(2026, 10, 10, 15, 0).In(newYork), DefaultLookback, bj(2026, 10, 10, 14, 30), true},
		{"now in utc", cal, bj(2026, 10, 8, 8, 0).UTC(), DefaultLookback, bj(2026, 9, 30, 14, 30), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Latest(s, tc.cal, tc.now, tc.lookback)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Fatalf("Latest(%v) = %v, %v; want %v, %v", tc.now, got, ok, tc.want.UTC(), tc.ok)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("Latest returned zone %v, want UTC", got.Location())
			}
		})
	}
	if _, ok := Latest(nil, nil, bj(2026, 9, 28, 12, 0), DefaultLookback); ok {
		t.Error("nil schedule has no latest slot")
	}
}

// TestCatchUpAfterOutage simulates an instance that ran the Wednesday 09:30
// slot, was down for three days, and then ticks every minute: it must run
// exactly once, for the most recent missed slot, and then again only at the
// next slot.
func TestCatchUpAfterOutage(t *testing.T) {
	t.Parallel()
	s := mustParse(t, twice)
	lastRun := bj(2026, 9, 23, 9, 30).UTC() // Wednesday
	back := bj(2026, 9, 26, 10, 0)          // Saturday, three days later

	missed := Slots(s, nil, lastRun, back)
	if len(missed) != 5 { // Wed 14:30, Thu 09:30 and 14:30, Fri 09:30 and 14:30
		t.Fatalf("missed %d slots, want 5: %v", len(missed), missed)
	}

	var runs []time.Time
	for now := back; now.Before(bj(2026, 9, 28, 10, 0)); now = now.Add(time.Minute) {
		slot, ok := Latest(s, nil, now, DefaultLookback)
		if ok && slot.After(lastRun) {
			runs = append(runs, slot)
			lastRun = slot
		}
	}
	want := []time.Time{bj(2026, 9, 25, 14, 30).UTC(), bj(2026, 9, 28, 9, 30).UTC()}
	if !sameTimes(runs, want) {
		t.Fatalf("runs = %v, want %v", runs, want)
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	cal := testCalendar(t)
	s := mustParse(t, twice)

	closedAll := map[string]DayKind{}
	for d := bj(2026, 11, 1, 12, 0); d.Before(bj(2027, 2, 1, 0, 0)); d = d.AddDate(0, 0, 1) {
		closedAll[DateOf(d).String()] = Closed
	}
	shut, err := NewCalendar(closedAll)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		cal  *Calendar
		now  time.Time
		want time.Time
		ok   bool
	}{
		{"morning before the first slot", nil, bj(2026, 9, 28, 8, 0), bj(2026, 9, 28, 9, 30), true},
		{"at a slot: the next one", nil, bj(2026, 9, 28, 9, 30), bj(2026, 9, 28, 14, 30), true},
		{"friday afternoon: monday", nil, bj(2026, 9, 25, 15, 0), bj(2026, 9, 28, 9, 30), true},
		{"before national day, plain rule", nil, bj(2026, 9, 30, 15, 0), bj(2026, 10, 1, 9, 30), true},
		{"across the holiday week", cal, bj(2026, 9, 30, 15, 0), bj(2026, 10, 8, 9, 30), true},
		{"friday before a make-up saturday", cal, bj(2026, 10, 9, 15, 0), bj(2026, 10, 10, 9, 30), true},
		{"friday, plain rule: monday", nil, bj(2026, 10, 9, 15, 0), bj(2026, 10, 12, 9, 30), true},
		{"now in new york", cal, bj(2026, 9, 30, 15, 0).In(newYork), bj(2026, 10, 8, 9, 30), true},
		{"closed beyond the horizon", shut, bj(2026, 11, 1, 0, 0), time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Next(s, tc.cal, tc.now)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Fatalf("Next(%v) = %v, %v; want %v, %v", tc.now, got, ok, tc.want.UTC(), tc.ok)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("Next returned zone %v, want UTC", got.Location())
			}
		})
	}
	if _, ok := Next(nil, nil, bj(2026, 9, 28, 12, 0)); ok {
		t.Error("nil schedule has no next slot")
	}
}
