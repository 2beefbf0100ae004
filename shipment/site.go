package shipment

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
