package schedule_test

import (
	"fmt"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/schedule"
)

func ExampleParse() {
	s, err := schedule.Parse("30 9,14 * * *")
	if err != nil {
		panic(err)
	}
	// Monday 2026-09-28 00:00 UTC; the slots are Beijing time.
	t := time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)
	fmt.Println(s.Next(t).UTC())

	_, err = schedule.Parse("*/5 9 * * *")
	fmt.Println(apperr.CodeOf(err))
	_, err = schedule.Parse("CRON_TZ=UTC 0 9 * * *")
	fmt.Println(apperr.CodeOf(err))
	// Output:
	// 2026-09-28 01:30:00 +0000 UTC
	// schedule.too_frequent
	// schedule.invalid
}

func ExampleSlots() {
	s, _ := schedule.Parse("30 9,14 * * *")
	cal, _ := schedule.NewCalendar(map[string]schedule.DayKind{
		"2026-10-01": schedule.Closed,  // National Day, a Thursday
		"2026-10-10": schedule.Workday, // make-up Saturday
	})
	from := time.Date(2026, 9, 30, 12, 0, 0, 0, schedule.Location)
	to := time.Date(2026, 10, 10, 12, 0, 0, 0, schedule.Location)
	for _, slot := range schedule.Slots(s, cal, from, to) {
		fmt.Println(slot.Format(time.RFC3339), slot.In(schedule.Location).Format("Mon 15:04"))
	}
	// Output:
	// 2026-09-30T06:30:00Z Wed 14:30
	// 2026-10-02T01:30:00Z Fri 09:30
	// 2026-10-02T06:30:00Z Fri 14:30
	// 2026-10-05T01:30:00Z Mon 09:30
	// 2026-10-05T06:30:00Z Mon 14:30
	// 2026-10-06T01:30:00Z Tue 09:30
	// 2026-10-06T06:30:00Z Tue 14:30
	// 2026-10-07T01:30:00Z Wed 09:30
	// 2026-10-07T06:30:00Z Wed 14:30
	// 2026-10-08T01:30:00Z Thu 09:30
	// 2026-10-08T06:30:00Z Thu 14:30
	// 2026-10-09T01:30:00Z Fri 09:30
	// 2026-10-09T06:30:00Z Fri 14:30
	// 2026-10-10T01:30:00Z Sat 09:30
}

func ExampleLatest() {
	s, _ := schedule.Parse("30 9,14 * * *")
	// Back up on Saturday after three days down: only Friday 14:30 is due.
	now := time.Date(2026, 9, 26, 10, 0, 0, 0, schedule.Location)
	slot, ok := schedule.Latest(s, nil, now, schedule.DefaultLookback)
	fmt.Println(slot, ok)
	// Output:
	// 2026-09-25 06:30:00 +0000 UTC true
}

func ExampleNext() {
	s, _ := schedule.Parse("30 9,14 * * *")
	cal, _ := schedule.NewCalendar(map[string]schedule.DayKind{
		"2026-10-01": schedule.Closed, "2026-10-02": schedule.Closed,
		"2026-10-05": schedule.Closed, "2026-10-06": schedule.Closed,
		"2026-10-07": schedule.Closed,
	})
	now := time.Date(2026, 9, 30, 15, 0, 0, 0, schedule.Location)
	slot, ok := schedule.Next(s, cal, now)
	fmt.Println(slot.In(schedule.Location).Format("2006-01-02 Mon 15:04"), ok)
	// Output:
	// 2026-10-08 Thu 09:30 true
}

func ExampleCalendar_Counts() {
	cal, _ := schedule.NewCalendar(map[string]schedule.DayKind{
		"2026-10-01": schedule.Closed,
		"2026-10-10": schedule.Workday,
	})
	for _, d := range []string{"2026-09-30", "2026-10-01", "2026-10-03", "2026-10-10"} {
		day, _ := schedule.ParseDate(d)
		fmt.Println(d, day.Weekday(), cal.CountsDate(day))
	}
	// Output:
	// 2026-09-30 Wednesday true
	// 2026-10-01 Thursday false
	// 2026-10-03 Saturday false
	// 2026-10-10 Saturday true
}
