package shipment

import (
	"fmt"
	"sort"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Window is a counter in a hall.
type Window struct {
	No   string `json:"no"`
	Name string `json:"name"`
}

// Site is a hall, hub or department.
type Site struct {
	Code     string   `json:"code"`
	Kind     SiteKind `json:"kind"`
	NameZH   string   `json:"name_zh"`
	NameEN   string   `json:"name_en"`
	Province string   `json:"province"`
	City     string   `json:"city"`
	District string   `json:"district"`
	Street   string   `json:"street"`
	Detail   string   `json:"detail"`
	Phone    string   `json:"phone,omitempty"`
	HoursZH  string   `json:"opening_hours_zh,omitempty"`
	HoursEN  string   `json:"opening_hours_en,omitempty"`
	Windows  []Window `json:"windows"`
	Active   bool     `json:"active"`
	// Hall settings: when no SMS is sent, and the hall's notice board.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	NoticeZH   string      `json:"board_notice_zh,omitempty"`
	NoticeEN   string      `json:"board_notice_en,omitempty"`
}

// Address is the site's address in one line.
func (s Site) Address() string { return s.Province + s.City + s.District + s.Street + s.Detail }

// Name is the site's name in a language.
func (s Site) Name(lang string) string {
	if lang == "en" {
		return s.NameEN
	}
	return s.NameZH
}

// CertType is a kind of certificate: its names, how long a hall holds it,
// and what the collector brings.
type CertType struct {
	Code          string `json:"code"`
	NameZH        string `json:"name_zh"`
	NameEN        string `json:"name_en"`
	RetentionDays int    `json:"retention_days"`
	BringZH       string `json:"what_to_bring_zh"`
	BringEN       string `json:"what_to_bring_en"`
}

// HallSlots is a hall's list of shelf slots (货位) and whether shelving a
// parcel there must name one of them.
type HallSlots struct {
	Site         string   `json:"site"`
	SlotRequired bool     `json:"slot_required"`
	Slots        []string `json:"slots"`
}

// MaxHallSlots is the most slots a hall keeps.
const MaxHallSlots = 5000

// Normalize checks an edited list: every slot as ParseSlot reads it (sorted,
// each once), at most MaxHallSlots, and at least one when slots are
// required.
//
// Errors (apperr.Invalid): slot.invalid, slot.mistyped (field
// "slots[<index>]"), slot.too_many, slot.required_without_slots.
func (h *HallSlots) Normalize() error {
	if len(h.Slots) > MaxHallSlots {
		return apperr.New(apperr.Invalid, "slot.too_many").OnField("slots").With("count", len(h.Slots)).With("max", MaxHallSlots)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(h.Slots))
	for i, raw := range h.Slots {
		s, err := ParseSlot(raw)
		if err != nil {
			return apperr.As(err).OnField(fmt.Sprintf("slots[%d]", i)).With("index", i)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	h.Slots = out
	if h.SlotRequired && len(out) == 0 {
		return apperr.New(apperr.Invalid, "slot.required_without_slots").OnField("slot_required")
	}
	return nil
}

// CheckAdmin lets only an administrator through: the city's settings
// (sites, slots, routes, the calendar, the jobs) are theirs to edit.
//
// Errors: auth.forbidden (forbidden).
func CheckAdmin(a Actor) error {
	if a.Role != RoleAdmin {
		return apperr.New(apperr.Forbidden, "auth.forbidden")
	}
	return nil
}

// HallFor is the hall with code as a may act on its slots: an
// administrator any hall, anyone else only their own site.
//
// Errors: site.unknown (not found), site.wrong_kind (invalid),
// site.not_yours (forbidden).
func HallFor(a Actor, code string, site func(code string) (Site, bool)) (Site, error) {
	s, ok := site(code)
	if !ok {
		return s, apperr.New(apperr.NotFound, "site.unknown").With("site", code)
	}
	if s.Kind != SiteHall {
		return s, apperr.New(apperr.Invalid, "site.wrong_kind").With("site", code)
	}
	if a.Role != RoleAdmin && a.Site != code {
		return s, apperr.New(apperr.Forbidden, "site.not_yours").With("site", code)
	}
	return s, nil
}

// CheckShelfSlot checks the slot a shelve or reslot at hall puts a parcel
// in, given what the hall keeps: a slot where the hall requires one
// (required), and one of the hall's (known; ignored without a slot).
//
// Errors (invalid, on the field slot): slot.required, slot.unknown.
func CheckShelfSlot(hall, slot string, required, known bool) error {
	switch {
	case slot == "" && required:
		return apperr.New(apperr.Invalid, "slot.required").OnField("slot").With("site", hall)
	case slot != "" && !known:
		return apperr.New(apperr.Invalid, "slot.unknown").OnField("slot").With("slot", slot).With("site", hall)
	}
	return nil
}
