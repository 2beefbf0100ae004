package shipment

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/changchun-gov/courier/internal/apperr"
)

// ApplicantType is a natural or a legal person.
type ApplicantType string

// The applicant types.
const (
	Natural ApplicantType = "natural"
	Legal   ApplicantType = "legal"
)

// Applicant is the person or enterprise a parcel is for. It is personal data:
// it is stored apart from the ledger, the ID number only hashed and
// encrypted, and it never reaches a log.
type Applicant struct {
	Type        ApplicantType `json:"type"`
	Name        string        `json:"name"`
	ContactName string        `json:"contact_name,omitempty"`
	Phone       string        `json:"phone"`
	IDType      IDType        `json:"id_type"`
	IDNumber    string        `json:"id_number"`
}

// Destination is where a parcel goes: a hall, a department or an address.
type Destination struct {
	Kind    DestKind `json:"kind"`
	Site    string   `json:"site,omitempty"`
	Address *Address `json:"address,omitempty"`
}

// Certificate describes the certificate in a parcel. Its number is personal
// data (stored encrypted).
type Certificate struct {
	Type       string `json:"type"`
	Number     string `json:"number,omitempty"`
	IssuingDep string `json:"issuing_department,omitempty"`
}

// Registration is a request to register a parcel.
type Registration struct {
	Kind          Kind         `json:"kind"`
	OriginSite    string       `json:"origin_site"`
	Destination   Destination  `json:"destination"`
	Applicant     Applicant    `json:"applicant"`
	Certificate   *Certificate `json:"certificate,omitempty"`
	ApplicationNo string       `json:"application_no,omitempty"`
	Notes         string       `json:"notes,omitempty"`
}

// SiteLookup answers the kind of a site, and whether it exists.
type SiteLookup func(code string) (SiteKind, bool)

// CertTypeLookup answers whether a certificate type exists.
type CertTypeLookup func(code string) bool

var applicationNoRe = regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`)

// Normalize validates r and normalises it in place (trimmed names, normalised
// phone and ID numbers, the issuing department defaulting to the origin).
//
// Errors (all invalid, with Field set): parcel.kind_unknown, site.unknown,
// parcel.origin_not_department, parcel.origin_not_hall, parcel.dest_kind_unknown,
// parcel.dest_not_hall, parcel.dest_not_department, parcel.dest_same_as_origin,
// parcel.address_required, parcel.address_not_allowed, address.*,
// parcel.cert_required, parcel.cert_type_unknown, parcel.applicant_type_unknown,
// parcel.contact_required, name.*, phone.invalid, id.*, parcel.text_too_long.
func (r *Registration) Normalize(sites SiteLookup, certTypes CertTypeLookup) error {
	if !r.Kind.Valid() {
		return apperr.New(apperr.Invalid, "parcel.kind_unknown").OnField("kind").With("kind", string(r.Kind))
	}
	r.OriginSite = strings.TrimSpace(r.OriginSite)
	ok, err := requireSite(sites, r.OriginSite, "origin_site")
	if err != nil {
		return err
	}
	if r.Kind == KindCertificate && ok != SiteDepartment {
		return apperr.New(apperr.Invalid, "parcel.origin_not_department").OnField("origin_site").With("site", r.OriginSite)
	}
	if r.Kind == KindMaterials && ok == SiteDepartment {
		return apperr.New(apperr.Invalid, "parcel.origin_not_hall").OnField("origin_site").With("site", r.OriginSite)
	}

	d := &r.Destination
	d.Site = strings.TrimSpace(d.Site)
	switch d.Kind {
	case DestHall, DestDepartment:
		if d.Address != nil {
			return apperr.New(apperr.Invalid, "parcel.address_not_allowed").OnField("destination.address")
		}
		k, err := requireSite(sites, d.Site, "destination.site")
		if err != nil {
			return err
		}
		if d.Kind == DestHall && k != SiteHall {
			return apperr.New(apperr.Invalid, "parcel.dest_not_hall").OnField("destination.site").With("site", d.Site)
		}
		if d.Kind == DestDepartment && k != SiteDepartment {
			return apperr.New(apperr.Invalid, "site.wrong_kind").OnField("destination.site").With("site", d.Site)
		}
		if d.Site == r.OriginSite {
			return apperr.New(apperr.Invalid, "parcel.dest_same_as_origin").OnField("destination.site")
		}
	case DestAddress:
		if d.Site != "" {
			return apperr.New(apperr.Invalid, "parcel.address_not_allowed").OnField("destination.site")
		}
		if d.Address == nil {
			return apperr.New(apperr.Invalid, "parcel.address_required").OnField("destination.address")
		}
		err := d.Address.Validate()
		if err == nil {
			err = CheckDivision(d.Address)
		}
		if err != nil {
			if e := apperr.As(err); e != nil && e.Field != "" {
				f := "destination.address." + e.Field
				return e.OnField(f).With("field", f)
			}
			return err
		}
	default:
		return apperr.New(apperr.Invalid, "parcel.dest_kind_unknown").OnField("destination.kind")
	}
	if (r.Kind == KindMaterials) != (d.Kind == DestDepartment) {
		if r.Kind == KindMaterials {
			return apperr.New(apperr.Invalid, "parcel.dest_not_department").OnField("destination.kind")
		}
		return apperr.New(apperr.Invalid, "site.wrong_kind").OnField("destination.site").With("site", d.Site)
	}

	if r.Kind == KindCertificate {
		c := r.Certificate
		if c == nil || strings.TrimSpace(c.Type) == "" {
			return apperr.New(apperr.Invalid, "parcel.cert_required").OnField("certificate.type")
		}
		c.Type = strings.TrimSpace(c.Type)
		if !certTypes(c.Type) {
			return apperr.New(apperr.Invalid, "parcel.cert_type_unknown").OnField("certificate.type").With("cert_type", c.Type)
		}
		c.IssuingDep = strings.TrimSpace(c.IssuingDep)
		if c.IssuingDep == "" {
			c.IssuingDep = r.OriginSite
		}
		k, err := requireSite(sites, c.IssuingDep, "certificate.issuing_department")
		if err != nil {
			return err
		}
		if k != SiteDepartment {
			return apperr.New(apperr.Invalid, "site.wrong_kind").OnField("certificate.issuing_department").With("site", c.IssuingDep)
		}
		c.Number = strings.TrimSpace(c.Number)
		if err := maxLen(c.Number, 64, "certificate.number"); err != nil {
			return err
		}
	} else if r.Certificate != nil {
		r.Certificate = nil
	}

	if err := r.Applicant.normalize(); err != nil {
		return err
	}
	r.ApplicationNo = strings.TrimSpace(r.ApplicationNo)
	if r.ApplicationNo != "" && !applicationNoRe.MatchString(r.ApplicationNo) {
		return apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("application_no").With("field", "application_no")
	}
	r.Notes = strings.TrimSpace(r.Notes)
	return maxLen(r.Notes, 500, "notes")
}

func (a *Applicant) normalize() error {
	var err error
	switch a.Type {
	case Natural:
		if a.IDType == IDUSCC {
			return apperr.New(apperr.Invalid, "id.type.unknown").OnField("applicant.id_type")
		}
	case Legal:
		if a.IDType == "" {
			a.IDType = IDUSCC
		}
		if a.IDType != IDUSCC {
			return apperr.New(apperr.Invalid, "id.type.unknown").OnField("applicant.id_type")
		}
		if a.ContactName, err = ValidateName(a.ContactName); err != nil {
			if apperr.CodeOf(err) == "name.empty" {
				return apperr.New(apperr.Invalid, "parcel.contact_required").OnField("applicant.contact_name")
			}
			return withField(err, "applicant.contact_name")
		}
	default:
		return apperr.New(apperr.Invalid, "parcel.applicant_type_unknown").OnField("applicant.type")
	}
	if a.Name, err = ValidateName(a.Name); err != nil {
		return withField(err, "applicant.name")
	}
	if a.Phone, err = ValidatePhone(a.Phone); err != nil {
		return withField(err, "applicant.phone")
	}
	if a.IDNumber, err = ValidateID(a.IDType, a.IDNumber); err != nil {
		return withField(err, "applicant.id_number")
	}
	return nil
}

func requireSite(sites SiteLookup, code, field string) (SiteKind, error) {
	if code == "" {
		return "", apperr.New(apperr.Invalid, "site.required").OnField(field)
	}
	k, ok := sites(code)
	if !ok {
		return "", apperr.New(apperr.Invalid, "site.unknown").OnField(field).With("site", code)
	}
	return k, nil
}

func maxLen(s string, n int, field string) error {
	if utf8.RuneCountInString(s) > n {
		return apperr.New(apperr.Invalid, "parcel.text_too_long").OnField(field).With("field", field)
	}
	return nil
}

func withField(err error, field string) error {
	if e := apperr.As(err); e != nil && e.Field == "" {
		return e.OnField(field)
	}
	return err
}

// InitialPath is a new parcel's path: direct from origin to destination (the
// routes issue adds hub legs). An express parcel's path is its origin alone;
// the courier takes it from there to the address.
func InitialPath(r *Registration) []string {
	if r.Destination.Kind == DestAddress {
		return []string{r.OriginSite}
	}
	return []string{r.OriginSite, r.Destination.Site}
}
