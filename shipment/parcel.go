package shipment

import (
	"slices"
	"time"
)

// Kind is what a parcel carries.
type Kind string

// The kinds.
const (
	KindCertificate Kind = "certificate" // a licence or certificate on its way to the citizen
	KindMaterials   Kind = "materials"   // application materials on their way to a department
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindCertificate || k == KindMaterials }

// DestKind is the kind of a parcel's destination.
type DestKind string

// The destination kinds.
const (
	DestHall       DestKind = "hall"       // collected at the hall's window
	DestDepartment DestKind = "department" // application materials, received by the department
	DestAddress    DestKind = "address"    // express to the applicant's address
)

// Valid reports whether d is a known destination kind.
func (d DestKind) Valid() bool { return d == DestHall || d == DestDepartment || d == DestAddress }

// SiteKind is the kind of a site.
type SiteKind string

// The site kinds.
const (
	SiteHall       SiteKind = "hall"       // a service hall with an issuing window
	SiteHub        SiteKind = "hub"        // a circulation hub
	SiteDepartment SiteKind = "department" // an approving department
)

// Parcel is the current state of a parcel as the ledger keeps it. It holds
// ids and codes only; personal data lives in Applicant, stored apart.
type Parcel struct {
	ID            int64
	WaybillNo     string
	Kind          Kind
	OriginSite    string
	DestKind      DestKind
	DestSite      string // empty for DestAddress
	Path          []string
	PathIdx       int  // index in Path of the last site reached
	LegMoving     bool // a returning parcel is on a leg (picked up, not yet received)
	Status        Status
	PrevStatus    Status // the state an exception came from
	CertType      string
	IssuingDept   string
	ApplicationNo string
	CreatedBy     int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int
	ReadySince    *time.Time
	HoldUntil     *time.Time
	LastAction    Action
	LastSite      string
	LastAt        time.Time
	RunSealed     bool
	CurrentRun    int64  // the run the parcel is in until received (0: none)
	PathBroken    bool   // its next leg no longer exists
	Slot          string // the shelf slot a ready parcel stands in ("": none); staff only
}

// CurrentSite is the site the parcel was last at.
func (p *Parcel) CurrentSite() string {
	if p.PathIdx >= 0 && p.PathIdx < len(p.Path) {
		return p.Path[p.PathIdx]
	}
	return ""
}

// NextSite is the site the parcel's next receive must happen at, or "".
func (p *Parcel) NextSite() string {
	if p.PathIdx+1 < len(p.Path) {
		return p.Path[p.PathIdx+1]
	}
	return ""
}

// Moving reports whether the parcel is between sites.
func (p *Parcel) Moving() bool {
	switch p.Status {
	case InTransit, OutForDelivery:
		return true
	case Returning:
		return p.LegMoving
	case Exception:
		return p.PrevStatus == InTransit || p.PrevStatus == OutForDelivery || (p.PrevStatus == Returning && p.LegMoving)
	}
	return false
}

// Actor is who acts: a user with a role, a home site for clerks and staff,
// and the departments an API client registers for.
type Actor struct {
	ID          int64
	Username    string
	Role        Role
	Site        string
	Departments []string
	Carrier     string // a courier's company ("": none)
}

// SystemActor is the schedule.
var SystemActor = Actor{Username: "system", Role: RoleSystem}

// MayRegisterAt reports whether the actor may register parcels at origin:
// admins anywhere, clerks and staff at their own site, API clients at their
// departments.
func (a Actor) MayRegisterAt(origin string) bool {
	switch a.Role {
	case RoleAdmin:
		return true
	case RoleClerk, RoleStaff, RoleHallLead:
		return a.Site == origin
	case RoleAPIClient:
		return slices.Contains(a.Departments, origin)
	}
	return false
}

// MayActOnRun reports whether the actor may scan or read a consolidation
// run from one site to another: admins, couriers and the system any; clerks
// and staff at their own site, which must be the run's origin or
// destination.
func (a Actor) MayActOnRun(from, to string) bool {
	switch a.Role {
	case RoleAdmin, RoleCourier, RoleSystem:
		return true
	case RoleClerk, RoleStaff, RoleHallLead:
		return a.Site == from || a.Site == to
	}
	return false
}

// CanSee reports whether the actor may read the parcel: admins all; clerks
// parcels from or to their department; hall staff parcels at or bound for
// their hall; API clients parcels from or to their departments; couriers any
// parcel they hold (the service narrows lists to the parcels they handled).
func (a Actor) CanSee(p *Parcel) bool {
	switch a.Role {
	case RoleAdmin, RoleSystem, RoleCourier:
		return true
	case RoleClerk:
		return p.OriginSite == a.Site || p.DestSite == a.Site
	case RoleStaff, RoleHallLead:
		return p.OriginSite == a.Site || slices.Contains(p.Path, a.Site)
	case RoleAPIClient:
		return slices.Contains(a.Departments, p.OriginSite) || slices.Contains(a.Departments, p.DestSite)
	}
	return false
}
