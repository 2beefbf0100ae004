package shipment

import (
	"slices"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
)

// regSiteKinds are the reference sites of the product brief.
var regSiteKinds = map[string]SiteKind{
	"CC-WIN": SiteHall, "CC-HUB": SiteHub,
	"ED-HALL": SiteHall, "NG-HALL": SiteHall, "NA-HALL": SiteHall,
	"JY-HALL": SiteHall, "DH-HALL": SiteHall, "YS-HALL": SiteHall,
	"D-SW": SiteDepartment, "D-HB": SiteDepartment, "D-GT": SiteDepartment,
	"D-GS": SiteDepartment, "D-NS": SiteDepartment, "D-LY": SiteDepartment, "D-AJ": SiteDepartment,
}

func regSites(code string) (SiteKind, bool) {
	k, ok := regSiteKinds[code]
	return k, ok
}

func regCertTypes(code string) bool {
	return code == "business_licence" || code == "env_permit" || code == "land_certificate"
}

// Known-valid identity numbers: the GB 11643 example and a GB 32100 code.
const (
	regResidentID = "11010519491231002X"
	regUSCC       = "91350100M000100Y43"
)

// regResidentCheck completes 17 digits with their GB 11643 check digit:
// weights 2^(17-i) mod 11, check (12 − sum mod 11) mod 11, 10 written X.
func regResidentCheck(first17 string) string {
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return first17 + "X"
	}
	return first17 + string(rune('0'+c))
}

// regCert is a valid certificate registration: 商务局 to the 二道区 hall.
func regCert() *Registration {
	return &Registration{
		Kind:        KindCertificate,
		OriginSite:  "D-SW",
		Destination: Destination{Kind: DestHall, Site: "ED-HALL"},
		Applicant: Applicant{Type: Natural, Name: "张三", Phone: "13800138000",
			IDType: IDResident, IDNumber: regResidentID},
		Certificate: &Certificate{Type: "business_licence"},
	}
}

// regMaterials is a valid materials registration: the ED-HALL to 国土局.
func regMaterials() *Registration {
	return &Registration{
		Kind:        KindMaterials,
		OriginSite:  "ED-HALL",
		Destination: Destination{Kind: DestDepartment, Site: "D-GT"},
		Applicant: Applicant{Type: Natural, Name: "李四", Phone: "13900139000",
			IDType: IDResident, IDNumber: regResidentID},
		ApplicationNo: "GT-2026-0001",
	}
}

func regAddress() *Address {
	return &Address{Province: "吉林省", City: "长春市", District: "南关区", Street: "永吉街道",
		Detail: "人民大街1234号", Unit: "3单元502室"}
}

// regExpress is a valid express registration to an address.
func regExpress() *Registration {
	r := regCert()
	r.Destination = Destination{Kind: DestAddress, Address: regAddress()}
	return r
}

// regLegal is a valid registration for an enterprise.
func regLegal() *Registration {
	r := regCert()
	r.Applicant = Applicant{Type: Legal, Name: "长春某某科技有限公司", ContactName: "王五",
		Phone: "13700137000", IDNumber: regUSCC}
	return r
}

func TestRegistrationNormalizeOK(t *testing.T) {
	t.Parallel()

	t.Run("CertificateToHall", func(t *testing.T) {
		t.Parallel()
		r := regCert()
		r.OriginSite = " D-SW "
		r.Destination.Site = " ED-HALL\t"
		r.Applicant.Name = "  张　三 "
		r.Applicant.Phone = "138 0013 8000"
		r.Applicant.IDNumber = " 11010519491231002x "
		r.Certificate = &Certificate{Type: " business_licence ", Number: " 2201-0001 "}
		r.ApplicationNo = " SW-2026-1 "
		r.Notes = "  请尽快  "
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
		want := Registration{
			Kind: KindCertificate, OriginSite: "D-SW",
			Destination: Destination{Kind: DestHall, Site: "ED-HALL"},
			Applicant: Applicant{Type: Natural, Name: "张 三", Phone: "13800138000",
				IDType: IDResident, IDNumber: regResidentID},
			Certificate:   &Certificate{Type: "business_licence", Number: "2201-0001", IssuingDep: "D-SW"},
			ApplicationNo: "SW-2026-1",
			Notes:         "请尽快",
		}
		regEqual(t, r, &want)
		if got := InitialPath(r); !slices.Equal(got, []string{"D-SW", "ED-HALL"}) {
			t.Errorf("InitialPath = %v", got)
		}
	})

	t.Run("CertificateOtherIssuingDepartment", func(t *testing.T) {
		t.Parallel()
		r := regCert()
		r.Certificate.IssuingDep = "D-GS"
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
		if r.Certificate.IssuingDep != "D-GS" {
			t.Errorf("issuing department %q", r.Certificate.IssuingDep)
		}
	})

	t.Run("CertificateToCityWindow", func(t *testing.T) {
		t.Parallel()
		r := regCert()
		r.Destination.Site = "CC-WIN"
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ComputedResidentID", func(t *testing.T) {
		t.Parallel()
		r := regCert()
		r.Applicant.IDNumber = regResidentCheck("22010219900307123")
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("OtherDocuments", func(t *testing.T) {
		t.Parallel()
		for _, d := range []struct {
			t    IDType
			in   string
			want string
		}{
			{IDPassport, "e12345678", "E12345678"},
			{IDHKMacauPermit, "H 1234 5678", "H12345678"},
			{IDTaiwanPermit, "12345678", "12345678"},
		} {
			r := regCert()
			r.Applicant.IDType, r.Applicant.IDNumber = d.t, d.in
			if err := r.Normalize(regSites, regCertTypes); err != nil {
				t.Fatalf("%s %q: %v", d.t, d.in, err)
			}
			if r.Applicant.IDNumber != d.want {
				t.Errorf("%s %q → %q, want %q", d.t, d.in, r.Applicant.IDNumber, d.want)
			}
		}
	})

	t.Run("MaterialsToDepartment", func(t *testing.T) {
		t.Parallel()
		r := regMaterials()
		r.Certificate = &Certificate{Type: "ignored"}
		r.Applicant.Phone = "+86 139-0013-9000"
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
		if r.Certificate != nil {
			t.Errorf("certificate kept: %+v", r.Certificate)
		}
		if r.Applicant.Phone != "13900139000" {
			t.Errorf("phone %q", r.Applicant.Phone)
		}
		if got := InitialPath(r); !slices.Equal(got, []string{"ED-HALL", "D-GT"}) {
			t.Errorf("InitialPath = %v", got)
		}
	})

	t.Run("MaterialsFromHub", func(t *testing.T) {
		t.Parallel()
		r := regMaterials()
		r.OriginSite = "CC-HUB"
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ExpressToAddress", func(t *testing.T) {
		t.Parallel()
		r := regExpress()
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
		if r.Destination.Site != "" || r.Destination.Address == nil || *r.Destination.Address != *regAddress() {
			t.Errorf("destination %+v", r.Destination)
		}
		if got := InitialPath(r); !slices.Equal(got, []string{"D-SW"}) {
			t.Errorf("InitialPath = %v", got)
		}
	})

	t.Run("LegalPerson", func(t *testing.T) {
		t.Parallel()
		r := regLegal()
		r.Applicant.IDNumber = strings.ToLower(regUSCC)
		r.Applicant.ContactName = " 王五 "
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
		a := r.Applicant
		if a.IDType != IDUSCC || a.IDNumber != regUSCC || a.ContactName != "王五" || a.Name != "长春某某科技有限公司" {
			t.Errorf("applicant %+v", a)
		}
	})

	t.Run("LegalPersonExplicitUSCC", func(t *testing.T) {
		t.Parallel()
		r := regLegal()
		r.Applicant.IDType = IDUSCC
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("LongestText", func(t *testing.T) {
		t.Parallel()
		r := regCert()
		r.Notes = strings.Repeat("注", 500)
		r.Certificate.Number = strings.Repeat("N", 64)
		r.ApplicationNo = strings.Repeat("A", 64)
		if err := r.Normalize(regSites, regCertTypes); err != nil {
			t.Fatal(err)
		}
	})
}

func regEqual(t *testing.T, got, want *Registration) {
	t.Helper()
	if got.Kind != want.Kind || got.OriginSite != want.OriginSite || got.ApplicationNo != want.ApplicationNo ||
		got.Notes != want.Notes || got.Applicant != want.Applicant ||
		got.Destination.Kind != want.Destination.Kind || got.Destination.Site != want.Destination.Site {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if (got.Certificate == nil) != (want.Certificate == nil) ||
		got.Certificate != nil && *got.Certificate != *want.Certificate {
		t.Errorf("certificate %+v, want %+v", got.Certificate, want.Certificate)
	}
}

func TestRegistrationNormalizeErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		r     *Registration
		edit  func(r *Registration)
		code  string
		field string
	}{
		{"ErrKindUnknown", regCert(), func(r *Registration) { r.Kind = "parcel" }, "parcel.kind_unknown", "kind"},
		{"ErrKindEmpty", regCert(), func(r *Registration) { r.Kind = "" }, "parcel.kind_unknown", "kind"},
		{"ErrOriginRequired", regCert(), func(r *Registration) { r.OriginSite = "  " }, "site.required", "origin_site"},
		{"ErrOriginUnknown", regCert(), func(r *Registration) { r.OriginSite = "D-XX" }, "site.unknown", "origin_site"},
		{"ErrOriginLowerCase", regCert(), func(r *Registration) { r.OriginSite = "d-sw" }, "site.unknown", "origin_site"},
		{"ErrCertificateFromHall", regCert(), func(r *Registration) { r.OriginSite = "NG-HALL" }, "parcel.origin_not_department", "origin_site"},
		{"ErrCertificateFromHub", regCert(), func(r *Registration) { r.OriginSite = "CC-HUB" }, "parcel.origin_not_department", "origin_site"},
		{"ErrMaterialsFromDepartment", regMaterials(), func(r *Registration) { r.OriginSite = "D-HB" }, "parcel.origin_not_hall", "origin_site"},
		{"ErrDestKindUnknown", regCert(), func(r *Registration) { r.Destination.Kind = "locker" }, "parcel.dest_kind_unknown", "destination.kind"},
		{"ErrDestKindEmpty", regCert(), func(r *Registration) { r.Destination.Kind = "" }, "parcel.dest_kind_unknown", "destination.kind"},
		{"ErrDestSiteRequired", regCert(), func(r *Registration) { r.Destination.Site = "" }, "site.required", "destination.site"},
		{"ErrDestSiteUnknown", regCert(), func(r *Registration) { r.Destination.Site = "XX-HALL" }, "site.unknown", "destination.site"},
		{"ErrDestNotHall", regCert(), func(r *Registration) { r.Destination.Site = "D-GT" }, "parcel.dest_not_hall", "destination.site"},
		{"ErrDestHubNotHall", regCert(), func(r *Registration) { r.Destination.Site = "CC-HUB" }, "parcel.dest_not_hall", "destination.site"},
		{"ErrHallWithAddress", regCert(), func(r *Registration) { r.Destination.Address = regAddress() }, "parcel.address_not_allowed", "destination.address"},
		{"ErrDepartmentWithAddress", regMaterials(), func(r *Registration) { r.Destination.Address = regAddress() }, "parcel.address_not_allowed", "destination.address"},
		{"ErrDestDepartmentIsHall", regMaterials(), func(r *Registration) { r.Destination.Site = "NG-HALL" }, "site.wrong_kind", "destination.site"},
		{"ErrMaterialsToHall", regMaterials(), func(r *Registration) { r.Destination = Destination{Kind: DestHall, Site: "NG-HALL"} }, "parcel.dest_not_department", "destination.kind"},
		{"ErrMaterialsToAddress", regMaterials(), func(r *Registration) { r.Destination = Destination{Kind: DestAddress, Address: regAddress()} }, "parcel.dest_not_department", "destination.kind"},
		{"ErrCertificateToDepartment", regCert(), func(r *Registration) { r.Destination = Destination{Kind: DestDepartment, Site: "D-GT"} }, "site.wrong_kind", "destination.site"},
		{"ErrAddressRequired", regExpress(), func(r *Registration) { r.Destination.Address = nil }, "parcel.address_required", "destination.address"},
		{"ErrAddressWithSite", regExpress(), func(r *Registration) { r.Destination.Site = "ED-HALL" }, "parcel.address_not_allowed", "destination.site"},
		{"ErrAddressProvince", regExpress(), func(r *Registration) { r.Destination.Address.Province = " " }, "address.required", "province"},
		{"ErrAddressDetail", regExpress(), func(r *Registration) { r.Destination.Address.Detail = "" }, "address.required", "detail"},
		{"ErrAddressTooLong", regExpress(), func(r *Registration) { r.Destination.Address.Unit = strings.Repeat("室", 101) }, "address.too_long", "unit"},
		{"ErrCertRequired", regCert(), func(r *Registration) { r.Certificate = nil }, "parcel.cert_required", "certificate.type"},
		{"ErrCertTypeBlank", regCert(), func(r *Registration) { r.Certificate.Type = "  " }, "parcel.cert_required", "certificate.type"},
		{"ErrCertTypeUnknown", regCert(), func(r *Registration) { r.Certificate.Type = "fishing_licence" }, "parcel.cert_type_unknown", "certificate.type"},
		{"ErrIssuingDeptUnknown", regCert(), func(r *Registration) { r.Certificate.IssuingDep = "D-XX" }, "site.unknown", "certificate.issuing_department"},
		{"ErrIssuingDeptIsHall", regCert(), func(r *Registration) { r.Certificate.IssuingDep = "CC-WIN" }, "site.wrong_kind", "certificate.issuing_department"},
		{"ErrCertNumberTooLong", regCert(), func(r *Registration) { r.Certificate.Number = strings.Repeat("N", 65) }, "parcel.text_too_long", "certificate.number"},
		{"ErrApplicantTypeUnknown", regCert(), func(r *Registration) { r.Applicant.Type = "robot" }, "parcel.applicant_type_unknown", "applicant.type"},
		{"ErrApplicantTypeEmpty", regCert(), func(r *Registration) { r.Applicant.Type = "" }, "parcel.applicant_type_unknown", "applicant.type"},
		{"ErrContactRequired", regLegal(), func(r *Registration) { r.Applicant.ContactName = " " }, "parcel.contact_required", "applicant.contact_name"},
		{"ErrContactInvalid", regLegal(), func(r *Registration) { r.Applicant.ContactName = "王\u202e五" }, "name.invalid", "applicant.contact_name"},
		{"ErrLegalWithResidentID", regLegal(), func(r *Registration) { r.Applicant.IDType = IDResident }, "id.type.unknown", "applicant.id_type"},
		{"ErrNaturalWithUSCC", regCert(), func(r *Registration) { r.Applicant.IDType = IDUSCC }, "id.type.unknown", "applicant.id_type"},
		{"ErrNaturalWithoutIDType", regCert(), func(r *Registration) { r.Applicant.IDType = "" }, "id.type.unknown", "applicant.id_number"},
		{"ErrNameEmpty", regCert(), func(r *Registration) { r.Applicant.Name = "　" }, "name.empty", "applicant.name"},
		{"ErrNameInvalid", regCert(), func(r *Registration) { r.Applicant.Name = "123" }, "name.invalid", "applicant.name"},
		{"ErrNameTooLong", regCert(), func(r *Registration) { r.Applicant.Name = strings.Repeat("张", MaxNameLen+1) }, "name.invalid", "applicant.name"},
		{"ErrPhoneInvalid", regCert(), func(r *Registration) { r.Applicant.Phone = "0431-88888888" }, "phone.invalid", "applicant.phone"},
		{"ErrPhoneEmpty", regCert(), func(r *Registration) { r.Applicant.Phone = "" }, "phone.invalid", "applicant.phone"},
		{"ErrResidentIDChecksum", regCert(), func(r *Registration) { r.Applicant.IDNumber = "110105194912310021" }, "id.resident.checksum", "applicant.id_number"},
		{"ErrResidentIDFormat", regCert(), func(r *Registration) { r.Applicant.IDNumber = "11010519491231002" }, "id.resident.format", "applicant.id_number"},
		{"ErrResidentIDBirthdate", regCert(), func(r *Registration) { r.Applicant.IDNumber = regResidentCheck("11010518991231002") }, "id.resident.birthdate", "applicant.id_number"},
		{"ErrUSCCChecksum", regLegal(), func(r *Registration) { r.Applicant.IDNumber = "91350100M000100Y44" }, "id.uscc.checksum", "applicant.id_number"},
		{"ErrUSCCFormat", regLegal(), func(r *Registration) { r.Applicant.IDNumber = "91350100M000100YI3" }, "id.uscc.format", "applicant.id_number"},
		{"ErrPassportFormat", regCert(), func(r *Registration) { r.Applicant.IDType, r.Applicant.IDNumber = IDPassport, "E12" }, "id.passport.format", "applicant.id_number"},
		{"ErrPermitFormat", regCert(), func(r *Registration) { r.Applicant.IDType, r.Applicant.IDNumber = IDHKMacauPermit, "X12345678" }, "id.permit.format", "applicant.id_number"},
		{"ErrApplicationNoBadChars", regMaterials(), func(r *Registration) { r.ApplicationNo = "GT 2026/1" }, "parcel.text_too_long", "application_no"},
		{"ErrApplicationNoTooLong", regMaterials(), func(r *Registration) { r.ApplicationNo = strings.Repeat("A", 65) }, "parcel.text_too_long", "application_no"},
		{"ErrNotesTooLong", regCert(), func(r *Registration) { r.Notes = strings.Repeat("注", 501) }, "parcel.text_too_long", "notes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.edit(tc.r)
			err := tc.r.Normalize(regSites, regCertTypes)
			if err == nil {
				t.Fatalf("no error, want %s", tc.code)
			}
			if apperr.KindOf(err) != apperr.Invalid || apperr.CodeOf(err) != tc.code {
				t.Fatalf("error %v, want invalid %s", err, tc.code)
			}
			field := apperr.As(err).Field
			if strings.HasPrefix(tc.code, "address.") {
				// Address.Validate names the address field alone; accept a
				// path that ends in it too.
				if field != tc.field && !strings.HasSuffix(field, "."+tc.field) {
					t.Errorf("field %q, want %q", field, tc.field)
				}
				return
			}
			if field != tc.field {
				t.Errorf("field %q, want %q", field, tc.field)
			}
		})
	}
}

func TestInitialPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		r    *Registration
		want []string
	}{
		{"Hall", regCert(), []string{"D-SW", "ED-HALL"}},
		{"CityWindow", &Registration{OriginSite: "D-GT", Destination: Destination{Kind: DestHall, Site: "CC-WIN"}}, []string{"D-GT", "CC-WIN"}},
		{"Department", regMaterials(), []string{"ED-HALL", "D-GT"}},
		{"Address", regExpress(), []string{"D-SW"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := InitialPath(tc.r); !slices.Equal(got, tc.want) {
				t.Errorf("InitialPath = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRegResidentCheckAgreesWithExamples(t *testing.T) {
	t.Parallel()
	if got := regResidentCheck(regResidentID[:17]); got != regResidentID {
		t.Fatalf("regResidentCheck = %s, want %s", got, regResidentID)
	}
	if err := ValidateUSCC(regUSCC); err != nil {
		t.Fatal(err)
	}
}

func TestExpressAddressIsANationalDivision(t *testing.T) {
	for _, c := range []struct {
		p, c, d, want string
	}{
		{"吉林省", "长春市", "南关区", ""},
		{"北京市", "市辖区", "朝阳区", ""},
		{"吉林省", "长春市", "朝阳区", ""}, // Changchun has a Chaoyang district too
		{"吉林", "长春市", "南关区", "address.province_unknown"},
		{"吉林省", "沈阳市", "和平区", "address.city_unknown"},
		{"吉林省", "长春市", "海淀区", "address.district_unknown"},
	} {
		err := CheckDivision(&Address{Province: c.p, City: c.c, District: c.d, Detail: "1 号"})
		if apperr.CodeOf(err) != c.want && !(c.want == "" && err == nil) {
			t.Errorf("%s %s %s: %v, want %q", c.p, c.c, c.d, err, c.want)
		}
	}
}
