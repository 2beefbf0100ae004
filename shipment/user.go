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
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	Role        Role      `json:"role"`
	Site        string    `json:"site,omitempty"`
	Departments []string  `json:"departments,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}
