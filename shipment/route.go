package shipment

import (
	"slices"
	"sort"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Leg is one carried connection between two sites, made by consolidation
// runs on a schedule.
type Leg struct {
	ID       int64  `json:"id"`
	From     string `json:"from_site"`
	To       string `json:"to_site"`
	Schedule string `json:"schedule"`  // robfig/cron 5-field expression, Asia/Shanghai
	SLAHours int    `json:"sla_hours"` // progress expected within this many hours
	Active   bool   `json:"active"`
}

// ShortestPath is the path with the fewest legs from one site to another
// over the active legs: direct where a leg exists, else via a hub. Ties go
// to the path whose sites sort first, so the answer is stable.
//
// Errors: route.none (invalid) when no path exists.
func ShortestPath(legs []Leg, from, to string) ([]string, error) {
	if from == to {
		return []string{from}, nil
	}
	next := map[string][]string{}
	for _, l := range legs {
		if l.Active {
			next[l.From] = append(next[l.From], l.To)
		}
	}
	for k := range next {
		sort.Strings(next[k])
	}
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, n := range next[cur] {
			if _, seen := prev[n]; seen {
				continue
			}
			prev[n] = cur
			if n == to {
				path := []string{to}
				for p := cur; p != ""; p = prev[p] {
					path = append(path, p)
				}
				slices.Reverse(path)
				return path, nil
			}
			queue = append(queue, n)
		}
	}
	return nil, apperr.New(apperr.Invalid, "route.none").With("from", from).With("to", to)
}

// ValidateLegs checks a set of legs as an administrator would edit them:
// known sites, no leg from a site to itself, no duplicate.
//
// Errors: route.same_site, route.duplicate, site.unknown (invalid).
func ValidateLegs(legs []Leg, sites SiteLookup) error {
	seen := map[[2]string]bool{}
	for _, l := range legs {
		if _, ok := sites(l.From); !ok {
			return apperr.New(apperr.Invalid, "site.unknown").With("site", l.From).OnField("from_site")
		}
		if _, ok := sites(l.To); !ok {
			return apperr.New(apperr.Invalid, "site.unknown").With("site", l.To).OnField("to_site")
		}
		if l.From == l.To {
			return apperr.New(apperr.Invalid, "route.same_site").With("site", l.From).OnField("to_site")
		}
		k := [2]string{l.From, l.To}
		if seen[k] {
			return apperr.New(apperr.Invalid, "route.duplicate").With("from", l.From).With("to", l.To)
		}
		seen[k] = true
	}
	return nil
}

// Bounds of a leg's promised time (SLA), in hours: at least one, at most 30
// days.
const (
	MinSLAHours = 1
	MaxSLAHours = 720
)

// CheckLeg checks a leg an administrator saves: its sites (ValidateLegs),
// its promised time, and its schedule by validSchedule (the schedule
// package's Parse), reported on the field schedule.
//
// Errors: those of ValidateLegs and of validSchedule; route.sla_invalid
// (invalid).
func CheckLeg(l Leg, sites SiteLookup, validSchedule func(spec string) error) error {
	if err := ValidateLegs([]Leg{l}, sites); err != nil {
		return err
	}
	if l.SLAHours < MinSLAHours || l.SLAHours > MaxSLAHours {
		return apperr.New(apperr.Invalid, "route.sla_invalid").OnField("sla_hours")
	}
	if err := validSchedule(l.Schedule); err != nil {
		if e := apperr.As(err); e != nil && e.Field == "" {
			return e.OnField("schedule")
		}
		return err
	}
	return nil
}
