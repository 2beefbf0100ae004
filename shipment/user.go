package shipment

import "time"

// NewUser is a request to create a user account.
type NewUser struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	Role        Role     `json:"role"`
	Site        string   `json:"site,omitempty"`
	Departments []string `json:"departments,omitempty"`
}

// User is a user account as the API shows it.
type User struct {
	ID          int64    `json:"id"`
	Username    string   `json:"username"`
	Role        Role     `json:"role"`
	Site        string   `json:"site,omitempty"`
	Departments []string `json:"departments,omitempty"`
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
}
