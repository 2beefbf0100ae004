package shipment

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

// NewUser is a request to create a user account.
type NewUser struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	Role        Role     `json:"role"`
	Site        string   `json:"site,omitempty"`
	Departments []string `json:"departments,omitempty"`
	// Carrier is a courier's company (one of Carriers); empty: the city's
	// own runner, who sees only the bookings assigned to them.
	Carrier string `json:"carrier,omitempty"`
}

// Carriers are the courier companies a courier may work for (the names
// of integrations' carriers).
var Carriers = []string{"sfexpress", "ems", "manual"}

// User is a user account as the API shows it.
type User struct {
	ID          int64    `json:"id"`
	Username    string   `json:"username"`
	Role        Role     `json:"role"`
	Site        string   `json:"site,omitempty"`
	Departments []string `json:"departments,omitempty"`
	Carrier     string   `json:"carrier,omitempty"`
	Disabled    bool     `json:"disabled"`
	// MustChangePassword is set by a password reset: the next sign-in must
	// carry a new password.
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
}

// UserChange is an administrator's edit of an account; nil fields stay as
// they are. Changing the role checks the site (and departments) against the
// new role: a role without a site clears it.
type UserChange struct {
	Disabled    *bool     `json:"disabled,omitempty"`
	Role        *Role     `json:"role,omitempty"`
	Site        *string   `json:"site,omitempty"`
	Departments *[]string `json:"departments,omitempty"`
	Carrier     *string   `json:"carrier,omitempty"`
}

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{1,63}$`)

// NormalUsername is a username as it is stored: trimmed, lower case.
func NormalUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckNewUser checks a new account and normalises it: the username's form,
// the password policy, and the role's site and departments (CheckRole).
//
// Errors: user.username_invalid, user.password_weak and the others of
// CheckPassword, and those of CheckRole (invalid).
func CheckNewUser(n *NewUser, siteKind func(string) (SiteKind, bool)) error {
	n.Username = NormalUsername(n.Username)
	if !usernameRe.MatchString(n.Username) {
		return apperr.New(apperr.Invalid, "user.username_invalid").OnField("username")
	}
	if err := CheckPassword(n.Username, n.Password, "password"); err != nil {
		return err
	}
	return CheckRole(n, siteKind)
}

// CheckRole checks the role, site and departments of an account and
// normalises them: clerks work at a department, staff at a hall or the
// hub, hall leads at a hall; admins and couriers have no site; API clients
// register for one or more departments.
//
// Errors: user.role_unknown, user.site_required, site.unknown,
// user.site_wrong_kind, user.site_not_allowed, user.departments_required,
// user.carrier_unknown, user.carrier_not_allowed (invalid).
func CheckRole(n *NewUser, siteKind func(string) (SiteKind, bool)) error {
	if !n.Role.Valid() {
		return apperr.New(apperr.Invalid, "user.role_unknown").OnField("role").With("role", string(n.Role))
	}
	n.Site = strings.TrimSpace(n.Site)
	if n.Role.HasSite() {
		if n.Site == "" {
			return apperr.New(apperr.Invalid, "user.site_required").OnField("site")
		}
		k, ok := siteKind(n.Site)
		if !ok {
			return apperr.New(apperr.Invalid, "site.unknown").OnField("site").With("site", n.Site)
		}
		if (n.Role == RoleClerk) != (k == SiteDepartment) || (n.Role == RoleHallLead && k != SiteHall) {
			return apperr.New(apperr.Invalid, "user.site_wrong_kind").OnField("site")
		}
	} else if n.Site != "" {
		return apperr.New(apperr.Invalid, "user.site_not_allowed").OnField("site")
	}
	if n.Role == RoleAPIClient {
		if len(n.Departments) == 0 {
			return apperr.New(apperr.Invalid, "user.departments_required").OnField("departments")
		}
		for _, d := range n.Departments {
			if k, ok := siteKind(d); !ok || k != SiteDepartment {
				return apperr.New(apperr.Invalid, "site.unknown").OnField("departments").With("site", d)
			}
		}
	} else {
		n.Departments = nil
	}
	n.Carrier = strings.TrimSpace(n.Carrier)
	switch {
	case n.Carrier == "":
	case n.Role != RoleCourier:
		return apperr.New(apperr.Invalid, "user.carrier_not_allowed").OnField("carrier")
	case !slices.Contains(Carriers, n.Carrier):
		return apperr.New(apperr.Invalid, "user.carrier_unknown").OnField("carrier").With("carrier", n.Carrier)
	}
	return nil
}

// Empty reports whether the change changes nothing.
func (ch UserChange) Empty() bool {
	return ch.Disabled == nil && ch.Role == nil && ch.Site == nil && ch.Departments == nil && ch.Carrier == nil
}

// TakesAdmin reports whether the change may take an administrator's rights
// (disable, or another role): the last active one must keep them.
func (ch UserChange) TakesAdmin() bool {
	return (ch.Disabled != nil && *ch.Disabled) || (ch.Role != nil && *ch.Role != RoleAdmin)
}

// ApplyUserChange is an administrator's change of cur, as stored, checked:
// the role's site and departments (CheckRole, a role without a site clears
// it), and that the last active administrator keeps the rights
// (otherAdmins: the active administrators but cur).
//
// Errors: those of CheckRole (invalid); user.last_admin (conflict).
func ApplyUserChange(cur User, ch UserChange, otherAdmins int, siteKind func(string) (SiteKind, bool)) (User, error) {
	n := NewUser{Username: cur.Username, Role: cur.Role, Site: cur.Site, Departments: cur.Departments, Carrier: cur.Carrier}
	if ch.Role != nil {
		n.Role = *ch.Role
		if !n.Role.HasSite() {
			n.Site = ""
		}
		if n.Role != RoleAPIClient {
			n.Departments = nil
		}
		if n.Role != RoleCourier {
			n.Carrier = ""
		}
	}
	if ch.Carrier != nil {
		n.Carrier = *ch.Carrier
	}
	if ch.Site != nil {
		n.Site = *ch.Site
	}
	if ch.Departments != nil {
		n.Departments = *ch.Departments
	}
	if err := CheckRole(&n, siteKind); err != nil {
		return cur, err
	}
	out := cur
	out.Role, out.Site, out.Departments, out.Carrier = n.Role, n.Site, n.Departments, n.Carrier
	if ch.Disabled != nil {
		out.Disabled = *ch.Disabled
	}
	wasActiveAdmin := cur.Role == RoleAdmin && !cur.Disabled
	if wasActiveAdmin && (out.Disabled || out.Role != RoleAdmin) && otherAdmins == 0 {
		return cur, apperr.New(apperr.Conflict, "user.last_admin").With("username", cur.Username)
	}
	if out.Departments == nil {
		out.Departments = []string{}
	}
	return out, nil
}

// SignIn is an account as a sign-in finds it once the password matched.
type SignIn struct {
	Disabled   bool // the account is disabled
	MustChange bool // its password was reset: the next sign-in sets a new one
}

// DecideSignIn decides a sign-in whose password matched: a disabled account
// is refused; after a reset the request must carry a new password; a new
// password given is to be set (checked by CheckPassword where it is set).
//
// Errors: auth.user_disabled, auth.password_change_required (forbidden).
func DecideSignIn(s SignIn, newPassword string) (setPassword bool, err error) {
	switch {
	case s.Disabled:
		return false, apperr.New(apperr.Forbidden, "auth.user_disabled")
	case newPassword != "":
		return true, nil
	case s.MustChange:
		return false, apperr.New(apperr.Forbidden, "auth.password_change_required").OnField("new_password")
	}
	return false, nil
}
