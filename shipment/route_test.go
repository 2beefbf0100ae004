package shipment

import (
	"slices"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
)

func TestShortestPath(t *testing.T) {
	t.Parallel()
	legs := []Leg{
		{From: "D-SW", To: "CC-HUB", Active: true},
		{From: "D-SW", To: "CC-WIN", Active: true},
		{From: "CC-HUB", To: "ED-HALL", Active: true},
		{From: "CC-WIN", To: "CC-HUB", Active: true},
		{From: "ED-HALL", To: "CC-HUB", Active: true},
		{From: "CC-HUB", To: "D-SW", Active: true},
		{From: "D-GT", To: "ED-HALL", Active: false},
	}
	for _, c := range []struct {
		from, to string
		want     []string
	}{
		{"D-SW", "CC-WIN", []string{"D-SW", "CC-WIN"}},
		{"D-SW", "ED-HALL", []string{"D-SW", "CC-HUB", "ED-HALL"}},
		{"ED-HALL", "D-SW", []string{"ED-HALL", "CC-HUB", "D-SW"}},
		{"D-SW", "D-SW", []string{"D-SW"}},
	} {
		got, err := ShortestPath(legs, c.from, c.to)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s → %s: %v %v, want %v", c.from, c.to, got, err, c.want)
		}
	}
	if _, err := ShortestPath(legs, "D-GT", "ED-HALL"); apperr.CodeOf(err) != "route.none" {
		t.Errorf("inactive leg used: %v", err)
	}
}

func TestValidateLegs(t *testing.T) {
	t.Parallel()
	sites := func(c string) (SiteKind, bool) { return SiteHall, c != "XX" }
	for name, c := range map[string]struct {
		legs []Leg
		code string
	}{
		"OK":        {[]Leg{{From: "A", To: "B"}, {From: "B", To: "A"}}, ""},
		"Loop":      {[]Leg{{From: "A", To: "A"}}, "route.same_site"},
		"Unknown":   {[]Leg{{From: "A", To: "XX"}}, "site.unknown"},
		"Duplicate": {[]Leg{{From: "A", To: "B"}, {From: "A", To: "B"}}, "route.duplicate"},
	} {
		err := ValidateLegs(c.legs, sites)
		if (c.code == "" && err != nil) || (c.code != "" && apperr.CodeOf(err) != c.code) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
