// Package schedule computes the slots of consolidation runs (集中流转批次).
//
// Each route carries a cron expression (robfig/cron v3 standard syntax, five
// fields: minute hour day-of-month month day-of-week, or a descriptor such as
// @daily). The times of day are always Beijing time (Asia/Shanghai), whatever
// the zone of the machine or of the times passed in: "30 9,14 * * *" fires at
// 09:30 and 14:30 +08:00, that is 01:30Z and 06:30Z.
//
// A slot only counts on a working day. The plain rule is Monday–Friday; a
// Calendar adds the exceptions of the official holiday arrangement: Closed
// days (holidays, even on a weekday) and Workday days (make-up working days
// of 调休, even on a weekend). Whether a day counts is decided on its Beijing
// date.
//
// The package is pure logic: no clock, no database. Callers pass "now".
// Every time returned is in UTC, and callers should store slots in UTC (as
// timestamptz) and compare them with time.Time.Equal.
//
// Typical use by a scheduler instance, every minute or so:
//
//	slot, ok := schedule.Latest(s, cal, now, schedule.DefaultLookback)
//	if ok && slot.After(lastRunSlot) { run once for slot; record slot }
//
// After downtime this yields exactly one run, for the most recent missed slot;
// older missed slots are not replayed (the run for the latest slot takes
// everything that is waiting anyway).
package schedule

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Shanghai must load on minimal images without zoneinfo.

	"github.com/robfig/cron/v3"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Location is Beijing time (Asia/Shanghai), the zone of every schedule's
// times of day and of every Calendar date.
var Location = mustLoadLocation("Asia/Shanghai")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil { // cannot happen: time/tzdata is embedded
		panic("schedule: load " + name + ": " + err.Error())
	}
	return loc
}

const (
	// MinInterval is the shortest gap allowed between two consecutive
	// slots of a schedule. Parse refuses anything more frequent.
	MinInterval = 10 * time.Minute

	// MaxSlots bounds the work of one call of Slots, Latest or Next: each
	// examines at most this many candidate slots (counted or not). With
	// slots at least MinInterval apart that covers about 69 days.
	MaxSlots = 10000

	// DefaultLookback is the lookback to pass to Latest: long enough to
	// reach back over a week-long holiday (e.g. National Day), short
	// enough that a stale slot is not run long after the fact.
	DefaultLookback = 8 * 24 * time.Hour

	// NextHorizon is how far ahead Next looks for a counted slot.
	NextHorizon = 60 * 24 * time.Hour

	// maxSpecLen bounds the length of a spec accepted by Parse.
	maxSpecLen = 200
)

// invalid returns the "schedule.invalid" error for spec.
func invalid(spec, detail string) error {
	return apperr.New(apperr.Invalid, "schedule.invalid").
		With("schedule", spec).With("detail", detail)
}

// Parse parses a standard five-field cron spec (minute hour day-of-month
// month day-of-week, with the semantics of cron.ParseStandard) or a
// descriptor (@yearly, @annually, @monthly, @weekly, @daily, @midnight,
// @hourly), evaluated in Beijing time: the result behaves as if the spec were
// prefixed with "CRON_TZ=Asia/Shanghai ", independent of time.Local.
//
// Errors are apperr.Invalid:
//   - "schedule.invalid" with Args "schedule" (the spec) and "detail" (why,
//     usually the parser's message), for a spec that does not parse, carries
//     its own zone (CRON_TZ= or TZ=, since schedules are Beijing time by
//     definition), uses @every (not tied to times of day), or never fires;
//   - "schedule.too_frequent" with Args "schedule" and "minutes" (the
//     minimum, 10), when two consecutive slots can be closer than
//     MinInterval.
//
// The frequency check is exact for the times of day (it reads the parsed
// hour and minute sets) and also catches a late slot followed by an early
// one on the next day (e.g. 23:55 then 00:00).
func Parse(spec string) (cron.Schedule, error) {
	orig := spec
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return nil, invalid(orig, "empty spec")
	case len(spec) > maxSpecLen:
		return nil, invalid(orig, fmt.Sprintf("spec longer than %d characters", maxSpecLen))
	case strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ="):
		return nil, invalid(orig, "time zone prefix not allowed: schedules are Beijing time")
	case strings.HasPrefix(spec, "@every"):
		return nil, invalid(orig, "@every is not supported: use times of day")
	}

	parsed, err := parseStandard(spec)
	if err != nil {
		return nil, invalid(orig, err.Error())
	}
	ss, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, invalid(orig, fmt.Sprintf("unsupported schedule type %T", parsed))
	}
	// cron.WithLocation semantics: the spec carries no zone of its own.
	ss.Location = Location

	tod := timesOfDay(ss)
	if len(tod) == 0 || ss.Next(probeStart).IsZero() {
		return nil, invalid(orig, "the schedule never fires")
	}
	if tooFrequent(ss, tod) {
		return nil, apperr.New(apperr.Invalid, "schedule.too_frequent").
			With("schedule", orig).With("minutes", int(MinInterval/time.Minute))
	}
	return ss, nil
}

// parseStandard is cron.ParseStandard, with any panic of the parser turned
// into an error.
func parseStandard(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("unparsable spec: %v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

// probeStart is the fixed instant from which Parse probes a schedule, so
// that validation does not depend on the clock.
var probeStart = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// probeYears is how many years Parse scans for two consecutive firing days
// (28 years: the cycle of weekdays and leap years within 1901–2099).
const probeYears = 28

const (
	minuteMask = 1<<60 - 1
	hourMask   = 1<<24 - 1
	secondMask = 1<<60 - 1
)

// timesOfDay returns the minutes of the day (h*60+m, ascending) at which ss
// fires on a day it matches.
func timesOfDay(ss *cron.SpecSchedule) []int {
	var out []int
	for h := 0; h < 24; h++ {
		if ss.Hour&hourMask&(1<<h) == 0 {
			continue
		}
		for m := 0; m < 60; m++ {
			if ss.Minute&minuteMask&(1<<m) != 0 {
				out = append(out, h*60+m)
			}
		}
	}
	return out
}

// tooFrequent reports whether two consecutive slots of ss can be less than
// MinInterval apart. tod is timesOfDay(ss), non-empty.
func tooFrequent(ss *cron.SpecSchedule, tod []int) bool {
	minGap := int(MinInterval / time.Minute)
	if bits.OnesCount64(ss.Second&secondMask) > 1 {
		return true // several seconds within one minute
	}
	for i := 1; i < len(tod); i++ {
		if tod[i]-tod[i-1] < minGap {
			return true
		}
	}
	// The last slot of one day and the first of the next: only a problem if
	// the schedule can fire on two consecutive days.
	if tod[0]+24*60-tod[len(tod)-1] >= minGap {
		return false
	}
	return firesOnConsecutiveDays(ss, tod[0])
}

// firesOnConsecutiveDays reports whether ss matches two consecutive days
// within probeYears of probeStart. first is the first time of day of ss, in
// minutes: on every matching day ss fires at first, so stepping from one
// second before first on the day after each matching day walks the
// matching days in order.
func firesOnConsecutiveDays(ss *cron.SpecSchedule, first int) bool {
	at := func(d Date) time.Time {
		return time.Date(d.Year, d.Month, d.Day, 0, first, 0, 0, Location)
	}
	nextDay := func(d Date) Date {
		return DateOf(time.Date(d.Year, d.Month, d.Day+1, 12, 0, 0, 0, Location))
	}
	limit := probeStart.AddDate(probeYears, 0, 0)
	var prev Date
	havePrev := false
	d := DateOf(probeStart)
	for i := 0; i < probeYears*367; i++ {
		t := ss.Next(at(d).Add(-time.Second))
		if t.IsZero() || t.After(limit) {
			return false
		}
		day := DateOf(t)
		if havePrev && day == nextDay(prev) {
			return true
		}
		prev, havePrev = day, true
		d = nextDay(day)
	}
	return false
}

// Slots returns every slot of s in (from, to] whose Beijing day counts under
// cal, in ascending order, in UTC. A nil cal applies the plain Monday–Friday
// rule. At most MaxSlots candidate slots are examined: a longer range is cut
// short, so ask for ranges of weeks, not years.
func Slots(s cron.Schedule, cal *Calendar, from, to time.Time) []time.Time {
	if s == nil || !to.After(from) {
		return nil
	}
	var out []time.Time
	t := from
	for i := 0; i < MaxSlots; i++ {
		t = s.Next(t)
		if t.IsZero() || t.After(to) {
			break
		}
		if cal.Counts(t) {
			out = append(out, t.UTC())
		}
	}
	return out
}

// Latest returns the most recent slot of s that is at or before now (a slot
// exactly at now is due) and not older than lookback (slots in
// [now-lookback, now]), and whose day counts under cal. The result is in
// UTC. A lookback ≤ 0 means DefaultLookback.
//
// This answers "which slot is due?": a caller runs when the result is after
// the last slot it ran. After downtime it yields only the most recent missed
// slot, so catching up is exactly one run. A slot older than lookback is not
// caught up: if the last counted slot is further back, Latest reports false.
//
// Latest searches backwards one day at a time and stops at the first day
// window holding a counted slot; at most MaxSlots candidates are examined.
func Latest(s cron.Schedule, cal *Calendar, now time.Time, lookback time.Duration) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	// Window (lo, now] with lo one nanosecond before now-lookback, so that a
	// slot exactly lookback ago is included (cron's Next is strictly after).
	lo := now.Add(-lookback).Add(-time.Nanosecond)
	budget := MaxSlots
	for hi := now; hi.After(lo); {
		a := hi.Add(-24 * time.Hour)
		if a.Before(lo) {
			a = lo
		}
		var best time.Time
		found := false
		for t := a; budget > 0; {
			budget--
			t = s.Next(t)
			if t.IsZero() || t.After(hi) {
				break
			}
			if cal.Counts(t) {
				best, found = t, true
			}
		}
		if found {
			return best.UTC(), true
		}
		if budget <= 0 {
			break
		}
		hi = a
	}
	return time.Time{}, false
}

// Next returns the first slot of s strictly after now whose day counts under
// cal, in UTC, looking at most NextHorizon (60 days) ahead and examining at
// most MaxSlots candidates. It reports false if there is none in that span.
func Next(s cron.Schedule, cal *Calendar, now time.Time) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	limit := now.Add(NextHorizon)
	t := now
	for i := 0; i < MaxSlots; i++ {
		t = s.Next(t)
		if t.IsZero() || t.After(limit) {
			break
		}
		if cal.Counts(t) {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
