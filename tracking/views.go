package tracking

import (
	"time"

	"github.com/changchun-gov/courier/shipment"
)

// ApplicantView is the applicant as staff screens show it: name (masked for
// couriers), masked phone, ID type and masked ID.
type ApplicantView struct {
	Type        shipment.ApplicantType `json:"type"`
	Name        string                 `json:"name"`
	ContactName string                 `json:"contact_name,omitempty"`
	Phone       string                 `json:"phone"`
	IDType      shipment.IDType        `json:"id_type"`
	ID          string                 `json:"id_number_masked"`
	Address     string                 `json:"address,omitempty"`
	Purged      bool                   `json:"purged,omitempty"`
}

// ParcelView is a parcel as the staff API shows it.
type ParcelView struct {
	WaybillNo     string            `json:"waybill_no"`
	Kind          shipment.Kind     `json:"kind"`
	Status        shipment.Status   `json:"status"`
	StatusText    string            `json:"status_text"`
	OriginSite    string            `json:"origin_site"`
	DestKind      shipment.DestKind `json:"destination_kind"`
	DestSite      string            `json:"destination_site,omitempty"`
	Path          []string          `json:"path"`
	CurrentSite   string            `json:"current_site"`
	NextSite      string            `json:"next_site,omitempty"`
	CertType      string            `json:"cert_type,omitempty"`
	IssuingDept   string            `json:"issuing_department,omitempty"`
	ApplicationNo string            `json:"application_no,omitempty"`
	Applicant     *ApplicantView    `json:"applicant,omitempty"`
	ReadySince    *time.Time        `json:"ready_since,omitempty"`
	HoldUntil     *time.Time        `json:"hold_until,omitempty"`
	Slot          string            `json:"slot,omitempty"` // the shelf slot of a ready parcel; staff only
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
	Version       int               `json:"version"`
	// CanCancel tells whether the reader may cancel the parcel now
	// (shipment.MayCancel): the pages offer the form only then.
	CanCancel bool `json:"can_cancel"`
	// PrivateURL is the parcel's private link, which opens its public
	// detail without the phone tail: for the approval platform and the
	// ready SMS to send, never printed or shown publicly. Present in the
	// register answer and the single-parcel view while it is valid.
	PrivateURL string `json:"private_url,omitempty"`
	// Existing is set when a registration was the same as one already
	// registered under its application number: this is that parcel, and
	// nothing new was written.
	Existing bool `json:"-"`
}

// Filter narrows a parcel list.
type Filter struct {
	Status shipment.Status
	Site   string // at, from or bound for this site
	Dest   string // bound for this site
	// From and To are the first and last day of registration (YYYY-MM-DD,
	// Asia/Shanghai), each optional.
	From, To string
	Text     string // waybill number, application number, name or phone tail
	// Purpose names the screen of a search that reads personal data (a
	// name or a phone), recorded with the read: "desk_list", "counter",
	// "api".
	Purpose string
	// CollectionCode finds the ready parcel of a hall holding the code.
	CollectionCode string
	Cursor         string
	Limit          int
}

// Page is one page of a list with the cursor of the next.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// OutboxEntry is a message as operators see it: codes masked.
type OutboxEntry struct {
	ID        int64          `json:"id"`
	WaybillNo string         `json:"waybill_no"`
	Channel   string         `json:"channel"`        // sms (to the citizen) or site (to a site's staff, in the app)
	Site      string         `json:"site,omitempty"` // the site told, for a site notice
	Template  string         `json:"template"`
	Phone     string         `json:"phone,omitempty"`
	Payload   map[string]any `json:"payload"`
	CreatedAt time.Time      `json:"created_at"`
	Status    string         `json:"status"` // queued, sent or failed
	SentAt    *time.Time     `json:"sent_at,omitempty"`
	FailedAt  *time.Time     `json:"failed_at,omitempty"`
	Attempts  int            `json:"attempts"`
	LastError string         `json:"last_error,omitempty"` // why it is still queued, or why it failed
	Note      string         `json:"note,omitempty"`       // last_error in words, where it is a known reason
}

// Recipient is the person data of a parcel as it is kept: never an ID
// number, only its last four characters. It reaches the API only through
// StaffView.
type Recipient struct {
	Type        shipment.ApplicantType
	Name        string
	ContactName string
	Phone       string
	IDType      shipment.IDType
	IDTail      string
	Address     *shipment.Address
	Purged      bool
	// PrivateURL is the parcel's private link while it is still valid.
	PrivateURL string
}

// SeesSlots reports whether the actor is shown shelf slots: the hall's
// people and admins, not couriers or the departments' systems.
func SeesSlots(a shipment.Actor) bool {
	return a.Role != shipment.RoleCourier && a.Role != shipment.RoleAPIClient
}

// StaffView is a parcel as the actor may see it: the phone masked for the
// screen, the ID number as its last four; for a courier names masked and no
// digit of the phone's tail (it opens the public detail), and no private
// link; nothing personal once purged. r may be nil (no person data read).
func StaffView(a shipment.Actor, p *shipment.Parcel, r *Recipient) ParcelView {
	v := ParcelView{WaybillNo: p.WaybillNo, Kind: p.Kind, Status: p.Status, OriginSite: p.OriginSite,
		DestKind: p.DestKind, DestSite: p.DestSite, Path: p.Path, CurrentSite: p.CurrentSite(),
		NextSite: p.NextSite(), CertType: p.CertType, IssuingDept: p.IssuingDept, ApplicationNo: p.ApplicationNo,
		ReadySince: LocalPtr(p.ReadySince), HoldUntil: LocalPtr(p.HoldUntil),
		CreatedAt: Local(p.CreatedAt), UpdatedAt: Local(p.UpdatedAt), Version: p.Version,
		CanCancel: shipment.MayCancel(p, a)}
	if SeesSlots(a) && (p.Status == shipment.Ready || p.Status == shipment.Exception) {
		v.Slot = p.Slot // on the shelf (an instance of the previous release may leave it set after)
	}
	if r == nil {
		return v
	}
	av := &ApplicantView{Type: r.Type, Name: r.Name, ContactName: r.ContactName,
		Phone: shipment.MaskPhoneScreen(r.Phone), IDType: r.IDType, Purged: r.Purged}
	if r.IDTail != "" {
		av.ID = "****" + r.IDTail
	}
	if a.Role == shipment.RoleCourier {
		// No digit of the phone's tail: it opens the public detail.
		av.Name, av.ContactName = shipment.MaskName(r.Name), shipment.MaskName(r.ContactName)
		av.Phone = shipment.MaskPhoneLabel(r.Phone)
	}
	if r.Address != nil {
		av.Address = r.Address.MaskForScreen()
	}
	if r.Purged {
		av.Name, av.ContactName, av.Phone, av.ID = "", "", "", ""
	}
	v.Applicant = av
	if a.Role != shipment.RoleCourier && !r.Purged {
		// For the approval platform and the ready SMS to send; a courier,
		// who holds the parcel, does not get it.
		v.PrivateURL = r.PrivateURL
	}
	return v
}
