package shipment

import "slices"

// Status is a parcel's state. The values are exactly the state names of the
// product brief and mirror the CHECK constraint on parcels.status.
type Status string

// The states.
const (
	Registered     Status = "registered"
	AwaitingPickup Status = "awaiting_pickup"
	InTransit      Status = "in_transit"
	Arrived        Status = "arrived"
	Ready          Status = "ready"
	Collected      Status = "collected"
	OutForDelivery Status = "out_for_delivery"
	Delivered      Status = "delivered"
	Exception      Status = "exception"
	Returning      Status = "returning"
	Returned       Status = "returned"
	Cancelled      Status = "cancelled"
)

// Statuses lists every state in life order.
var Statuses = []Status{Registered, AwaitingPickup, InTransit, Arrived, Ready, Collected,
	OutForDelivery, Delivered, Exception, Returning, Returned, Cancelled}

// Valid reports whether s is a known state.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// Final reports whether no action can leave s.
func (s Status) Final() bool {
	switch s {
	case Collected, Delivered, Returned, Cancelled:
		return true
	}
	return false
}

// Action is what a scan, an API call, a courier push or a job does to a parcel.
type Action string

// The state-changing actions of the action table.
const (
	ActRegister Action = "register"
	ActBook     Action = "book"
	ActPickup   Action = "pickup"
	ActReceive  Action = "receive"
	ActShelve   Action = "shelve"
	ActCollect  Action = "collect"
	ActDispatch Action = "dispatch"
	ActDeliver  Action = "deliver"
	ActFail     Action = "fail"
	ActReport   Action = "report"
	ActResolve  Action = "resolve"
	ActReturn   Action = "return"
	ActCancel   Action = "cancel"
	ActReslot   Action = "reslot" // 移位: a ready parcel moves to another slot of its hall
	// ActRecall (召回): a parcel returning to its department that is still at
	// its hall is put back on the shelf for a citizen who came late, with a
	// fresh collection code.
	ActRecall Action = "recall"
)

// Events that change no state (and are never treated as repeats).
const (
	ActLabelPrinted Action = "label_printed"
	ActMessageSent  Action = "message_sent"
	ActNote         Action = "note"
	// ActRedirect is the recipient's choice, through the private link, of
	// express to the door instead of collecting at the hall (DecideRedirect).
	ActRedirect Action = "redirect"
)

// Actions lists the state-changing actions.
var Actions = []Action{ActRegister, ActBook, ActPickup, ActReceive, ActShelve, ActCollect,
	ActDispatch, ActDeliver, ActFail, ActReport, ActResolve, ActReturn, ActCancel, ActReslot, ActRecall}

// TakesSlot reports whether the action puts a parcel in a shelf slot.
func (a Action) TakesSlot() bool { return a == ActShelve || a == ActReslot || a == ActRecall }

// ScanActions are the actions a scan or API call may take: the action
// table's but register, and correct.
var ScanActions = append(slices.DeleteFunc(slices.Clone(Actions), func(a Action) bool { return a == ActRegister }), ActCorrect)

// Valid reports whether a is a known state-changing action (correct is one).
func (a Action) Valid() bool {
	if a == ActCorrect {
		return true
	}
	for _, x := range Actions {
		if x == a {
			return true
		}
	}
	return false
}

// Role is what a user is allowed to do.
type Role string

// The roles. System is the schedule (consolidation runs, the retention job).
const (
	RoleAdmin     Role = "admin"
	RoleClerk     Role = "clerk"
	RoleStaff     Role = "staff"
	RoleHallLead  Role = "hall_lead" // a hall's supervisor: staff rights there, plus its corrections and reports
	RoleCourier   Role = "courier"
	RoleAPIClient Role = "api_client"
	RoleSystem    Role = "system"
	// RoleRecipient is the citizen acting through their parcel's private
	// link (choosing express to the door): no account, never a user's role.
	RoleRecipient Role = "recipient"
)

// Roles lists the roles a user account can have (System is not one).
var Roles = []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead, RoleCourier, RoleAPIClient}

// Valid reports whether r is a role a user account can have.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// HasSite reports whether users of the role act at one home site.
func (r Role) HasSite() bool { return r == RoleClerk || r == RoleStaff || r == RoleHallLead }

// Source is how an event reached the service.
type Source string

// The sources.
const (
	SourceScan     Source = "scan"
	SourceWeb      Source = "web"
	SourceAPI      Source = "api"
	SourceCourier  Source = "courier"
	SourceSchedule Source = "schedule"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	switch s {
	case SourceScan, SourceWeb, SourceAPI, SourceCourier, SourceSchedule:
		return true
	}
	return false
}

// Rule is one row of the action table: action may move a parcel from From to
// To when taken by one of Roles. An action with several possible outcomes
// (receive, resolve) has one row per outcome; Decide picks the row from the
// parcel's path and the command. The same rows are in the database table
// transition_rules.
type Rule struct {
	Action Action
	From   Status
	To     Status
	Roles  []Role
}

var (
	clerkStaff   = []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead}
	anyoneOnSite = []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead, RoleCourier}
)

// Rules is the action table of the product brief. Admin may take every action.
var Rules = func() []Rule {
	r := []Rule{
		{ActBook, Registered, AwaitingPickup, []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead, RoleSystem}},
		{ActBook, Arrived, AwaitingPickup, []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead, RoleSystem}},
		{ActBook, Returning, Returning, []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead, RoleSystem}},
		// A parcel booked by hand (or put back after an exception, or out
		// of a run its origin cancelled) rides the next run.
		{ActBook, AwaitingPickup, AwaitingPickup, []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead, RoleSystem}},
		{ActPickup, Registered, InTransit, []Role{RoleAdmin, RoleCourier}},
		{ActPickup, AwaitingPickup, InTransit, []Role{RoleAdmin, RoleCourier}},
		{ActPickup, Returning, Returning, []Role{RoleAdmin, RoleCourier}},
		{ActReceive, InTransit, Arrived, clerkStaff},
		{ActReceive, InTransit, Delivered, clerkStaff},
		{ActReceive, Returning, Returning, clerkStaff},
		{ActReceive, Returning, Returned, clerkStaff},
		{ActShelve, Arrived, Ready, []Role{RoleAdmin, RoleStaff, RoleHallLead}},
		{ActCollect, Ready, Collected, []Role{RoleAdmin, RoleStaff, RoleHallLead}},
		{ActReslot, Ready, Ready, []Role{RoleAdmin, RoleStaff, RoleHallLead}},
		{ActDispatch, Arrived, OutForDelivery, []Role{RoleAdmin, RoleCourier}},
		{ActDispatch, InTransit, OutForDelivery, []Role{RoleAdmin, RoleCourier}},
		{ActDeliver, OutForDelivery, Delivered, []Role{RoleAdmin, RoleCourier}},
		{ActFail, OutForDelivery, Exception, []Role{RoleAdmin, RoleCourier}},
		{ActReturn, Ready, Returning, []Role{RoleAdmin, RoleStaff, RoleHallLead, RoleSystem}},
		{ActReturn, Arrived, Returning, []Role{RoleAdmin, RoleStaff, RoleHallLead, RoleSystem}},
		{ActReturn, Exception, Returning, []Role{RoleAdmin, RoleStaff, RoleHallLead, RoleSystem}},
		{ActRecall, Returning, Ready, []Role{RoleAdmin, RoleStaff, RoleHallLead}},
		{ActCancel, Registered, Cancelled, []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead}},
		{ActCancel, AwaitingPickup, Cancelled, []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead}},
	}
	for _, s := range Statuses {
		if !s.Final() && s != Exception {
			r = append(r, Rule{ActReport, s, Exception, anyoneOnSite})
		}
	}
	// resolve: back to the state it came from, onward on a new path, or back to the origin.
	for _, s := range Statuses {
		if !s.Final() && s != Exception {
			r = append(r, Rule{ActResolve, Exception, s, []Role{RoleAdmin, RoleStaff, RoleHallLead}})
		}
	}
	return r
}()

// RegisterRoles may register parcels.
var RegisterRoles = []Role{RoleAdmin, RoleClerk, RoleStaff, RoleHallLead, RoleAPIClient}

// RolesFor returns the roles that may take action a from any state.
func RolesFor(a Action) []Role {
	if a == ActRegister {
		return RegisterRoles
	}
	if a == ActCorrect {
		return CorrectRoles
	}
	seen := map[Role]bool{}
	var out []Role
	for _, r := range Rules {
		if r.Action != a {
			continue
		}
		for _, role := range r.Roles {
			if !seen[role] {
				seen[role] = true
				out = append(out, role)
			}
		}
	}
	return out
}

// MayTake reports whether role may take action a at all.
func MayTake(role Role, a Action) bool {
	for _, r := range RolesFor(a) {
		if r == role {
			return true
		}
	}
	return false
}

// From returns the states action a may be taken from.
func From(a Action) []Status {
	seen := map[Status]bool{}
	var out []Status
	for _, r := range Rules {
		if r.Action == a && !seen[r.From] {
			seen[r.From] = true
			out = append(out, r.From)
		}
	}
	return out
}

func ruleFor(a Action, from, to Status) (Rule, bool) {
	for _, r := range Rules {
		if r.Action == a && r.From == from && r.To == to {
			return r, true
		}
	}
	return Rule{}, false
}

// ActionsFor keeps, of among, the actions the role may take on some parcel
// (by the action table; an administrator may take every one), in order.
func ActionsFor(role Role, among []Action) []Action {
	var out []Action
	for _, a := range among {
		if role == RoleAdmin || MayTake(role, a) {
			out = append(out, a)
		}
	}
	return out
}

// NeedsReason tells whether an action is taken with a reason (ReasonsFor).
func NeedsReason(a Action) bool {
	return a == ActReport || a == ActFail || a == ActReturn || a == ActCancel
}
