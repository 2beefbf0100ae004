package shipment

// The registration form's fields, shared by the desk's form, its live
// check and the bulk import's columns.

// formFields maps a registration's fields, as the errors of Normalize
// name them, to the form's inputs.
var formFields = map[string]string{
	"kind": "kind", "origin_site": "origin_site", "destination.site": "dest_site", "destination.kind": "dest_site",
	"applicant.type": "applicant_type", "applicant.name": "name", "applicant.contact_name": "contact_name",
	"applicant.phone": "phone", "applicant.id_type": "id_type", "applicant.id_number": "id_number",
	"certificate.type": "cert_type", "certificate.number": "cert_no", "certificate.issuing_department": "cert_type",
	"application_no": "application_no", "notes": "notes",
	"destination.address": "detail", "destination.address.province": "province", "destination.address.city": "city",
	"destination.address.district": "district", "destination.address.street": "street",
	"destination.address.detail": "detail", "destination.address.unit": "unit",
}

// FormField is the form's input of a registration field an error names
// ("" for one the form has no input for).
func FormField(field string) string { return formFields[field] }

// RegistrationFrom reads a registration of the given kind (empty: as the
// desk form says, certificates by default) from named fields — the desk
// form's inputs, the live check's JSON, an imported row — from the actor's
// own site (an admin, or a user of no site, names the origin).
func RegistrationFrom(a Actor, kind Kind, get func(string) string) Registration {
	r := Registration{
		Kind:       kind,
		OriginSite: a.Site,
		Applicant: Applicant{Type: ApplicantType(get("applicant_type")), Name: get("name"),
			ContactName: get("contact_name"), Phone: get("phone"), IDType: IDType(get("id_type")),
			IDNumber: get("id_number")},
		ApplicationNo: get("application_no"),
		Notes:         get("notes"),
	}
	if r.Kind == "" {
		r.Kind = Kind(get("kind"))
	}
	if a.Role == RoleAdmin || r.OriginSite == "" {
		r.OriginSite = get("origin_site")
	}
	if r.Kind == "" {
		r.Kind = KindCertificate
	}
	r.Destination = Destination{Kind: DestHall, Site: get("dest_site")}
	if r.Kind == KindMaterials {
		r.Destination.Kind = DestDepartment
	} else {
		r.Certificate = &Certificate{Type: get("cert_type"), Number: get("cert_no")}
		if get("dest_kind") == string(DestAddress) {
			// Express to the door: the structured address (the unit apart).
			r.Destination = Destination{Kind: DestAddress, Address: &Address{Province: get("province"), City: get("city"),
				District: get("district"), Street: get("street"), Detail: get("detail"), Unit: get("unit")}}
		}
	}
	return r
}
