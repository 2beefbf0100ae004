package shipment

import (
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
)

func kinds(code string) (SiteKind, bool) {
	switch code {
	case "CC-WIN", "ED-HALL":
		return SiteHall, true
	case "CC-HUB":
		return SiteHub, true
	case "D-SW":
		return SiteDepartment, true
	}
	return "", false
}

func TestApplyUserChange(t *testing.T) {
	t.Parallel()
	role := func(r Role) *Role { return &r }
	str := func(s string) *string { return &s }
	yes := true
	admin := User{ID: 1, Username: "admin", Role: RoleAdmin}
	staff := User{ID: 2, Username: "wang", Role: RoleStaff, Site: "ED-HALL"}
	for name, c := range map[string]struct {
		cur    User
		ch     UserChange
		others int
		want   string // role/site/disabled, or the error code
	}{
		"the last admin disabled":      {admin, UserChange{Disabled: &yes}, 0, "user.last_admin"},
		"the last admin demoted":       {admin, UserChange{Role: role(RoleCourier)}, 0, "user.last_admin"},
		"another admin remains":        {admin, UserChange{Disabled: &yes}, 1, "admin//true"},
		"staff to courier drops site":  {staff, UserChange{Role: role(RoleCourier)}, 0, "courier//false"},
		"staff to hall lead":           {staff, UserChange{Role: role(RoleHallLead)}, 0, "hall_lead/ED-HALL/false"},
		"hall lead at the hub":         {staff, UserChange{Role: role(RoleHallLead), Site: str("CC-HUB")}, 0, "user.site_wrong_kind"},
		"clerk at a hall":              {staff, UserChange{Role: role(RoleClerk)}, 0, "user.site_wrong_kind"},
		"unknown site":                 {staff, UserChange{Site: str("XX")}, 0, "site.unknown"},
		"api client needs departments": {staff, UserChange{Role: role(RoleAPIClient)}, 0, "user.departments_required"},
	} {
		got, err := ApplyUserChange(c.cur, c.ch, c.others, kinds)
		s := string(got.Role) + "/" + got.Site + "/" + map[bool]string{true: "true", false: "false"}[got.Disabled]
		if err != nil {
			s = apperr.CodeOf(err)
		}
		if s != c.want {
			t.Errorf("%s: %s, want %s", name, s, c.want)
		}
	}
}

func TestCheckNewUser(t *testing.T) {
	t.Parallel()
	n := NewUser{Username: "  Wang.Li ", Password: "correct-horse-battery", Role: RoleAPIClient, Departments: []string{"D-SW"}}
	if err := CheckNewUser(&n, kinds); err != nil || n.Username != "wang.li" {
		t.Fatalf("%+v %v", n, err)
	}
	for _, c := range []struct {
		n    NewUser
		code string
	}{
		{NewUser{Username: "-x", Password: "correct-horse-battery", Role: RoleCourier}, "user.username_invalid"},
		{NewUser{Username: "li", Password: "short", Role: RoleCourier}, "user.password_weak"},
		{NewUser{Username: "li", Password: "correct-horse-battery", Role: "boss"}, "user.role_unknown"},
		{NewUser{Username: "li", Password: "correct-horse-battery", Role: RoleStaff}, "user.site_required"},
		{NewUser{Username: "li", Password: "correct-horse-battery", Role: RoleCourier, Site: "CC-WIN"}, "user.site_not_allowed"},
	} {
		if err := CheckNewUser(&c.n, kinds); apperr.CodeOf(err) != c.code {
			t.Errorf("%+v: %v, want %s", c.n, err, c.code)
		}
	}
}

// A sign-in whose password matched goes on unless the account is disabled;
// after a reset it must set a new password; a disabled account is refused
// even with one.
func TestDecideSignIn(t *testing.T) {
	for name, c := range map[string]struct {
		in      SignIn
		newPass string
		set     bool
		code    string
	}{
		"plain":                  {SignIn{}, "", false, ""},
		"with a new password":    {SignIn{}, "new-password-1", true, ""},
		"after a reset, none":    {SignIn{MustChange: true}, "", false, "auth.password_change_required"},
		"after a reset, one":     {SignIn{MustChange: true}, "new-password-1", true, ""},
		"disabled":               {SignIn{Disabled: true}, "", false, "auth.user_disabled"},
		"disabled, new password": {SignIn{Disabled: true, MustChange: true}, "new-password-1", false, "auth.user_disabled"},
	} {
		set, err := DecideSignIn(c.in, c.newPass)
		if set != c.set || (err == nil) != (c.code == "") || (err != nil && apperr.CodeOf(err) != c.code) {
			t.Errorf("%s: %v, %v; want %v, %q", name, set, err, c.set, c.code)
		}
	}
}
