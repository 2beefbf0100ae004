package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The department desk: register a parcel with a form that the service
// checks as the clerk types (the same rules as on saving), then print its
// label.

// deskForm is the registration form's inputs.
var deskForm = []string{"kind", "origin_site", "dest_site", "applicant_type", "name", "contact_name", "phone",
	"id_type", "id_number", "cert_type", "cert_no", "application_no", "notes",
	"dest_kind", "province", "city", "district", "street", "detail", "unit"}

type deskChoice struct{ Code, Text string }

type deskData struct {
	Kind                 shipment.Kind
	Origins, Dests       []deskChoice
	CertTypes, IDTypes   []deskChoice
	ApplicantTypes       []deskChoice
	ChooseOrigin, Saving bool
}

func (s *server) deskData(v pageView, a shipment.Actor) deskData {
	d := deskData{Kind: shipment.KindCertificate, ChooseOrigin: a.Role == shipment.RoleAdmin || a.Site == ""}
	if k, ok := s.Ref.Site(a.Site); ok && k.Kind != shipment.SiteDepartment {
		d.Kind = shipment.KindMaterials // a hall sends application materials to a department
	}
	if v.Form["kind"] != "" {
		d.Kind = shipment.Kind(v.Form["kind"])
	}
	name := func(st shipment.Site) string {
		if v.Lang == "en" && st.NameEN != "" {
			return st.NameEN
		}
		return st.NameZH
	}
	for _, st := range s.Ref.Sites() {
		switch {
		case d.Kind == shipment.KindCertificate && st.Kind == shipment.SiteHall,
			d.Kind == shipment.KindMaterials && st.Kind == shipment.SiteDepartment:
			d.Dests = append(d.Dests, deskChoice{st.Code, name(st)})
		}
		if d.ChooseOrigin && ((d.Kind == shipment.KindCertificate) == (st.Kind == shipment.SiteDepartment)) && st.Kind != shipment.SiteHub {
			d.Origins = append(d.Origins, deskChoice{st.Code, name(st)})
		}
	}
	for _, ct := range s.Ref.CertTypes() {
		n := ct.NameZH
		if v.Lang == "en" && ct.NameEN != "" {
			n = ct.NameEN
		}
		d.CertTypes = append(d.CertTypes, deskChoice{ct.Code, n})
	}
	for _, t := range shipment.IDTypes {
		d.IDTypes = append(d.IDTypes, deskChoice{string(t), v.T("id_type." + string(t))})
	}
	for _, t := range []string{"natural", "legal"} {
		d.ApplicantTypes = append(d.ApplicantTypes, deskChoice{t, v.T("applicant_type." + t)})
	}
	return d
}

func (s *server) deskNewPage(c *fiber.Ctx) error {
	v := s.view(c, "page.desk_new")
	v.Form["applicant_type"], v.Form["id_type"] = "natural", string(shipment.IDResident)
	v.Data = s.deskData(v, actor(c))
	return s.renderPage(c, fiber.StatusOK, "desk_new", v)
}

// deskRegister saves the form. The application number is required here:
// the same form sent twice (a double click, a reload) finds the parcel the
// first made (the core's unique application number) and makes no second.
func (s *server) deskRegister(c *fiber.Ctx) error {
	v := s.view(c, "page.desk_new")
	for _, f := range deskForm {
		v.Form[f] = strings.TrimSpace(c.FormValue(f))
	}
	a := actor(c)
	fail := func(err error) error {
		ae := apperr.As(err)
		if ae == nil {
			return err
		}
		v.Errors[shipment.FormField(ae.Field)] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
		v.Data = s.deskData(v, a)
		return s.renderPage(c, statusOf[ae.Kind], "desk_new", v)
	}
	if v.Form["application_no"] == "" {
		return fail(apperr.New(apperr.Invalid, "page.application_no_required").OnField("application_no"))
	}
	p, err := s.Parcels.Register(c.UserContext(), a, shipment.RegistrationFrom(a, "", func(k string) string { return v.Form[k] }), shipment.SourceWeb)
	if err != nil {
		return fail(err)
	}
	return c.Redirect("/desk/parcels/"+p.WaybillNo, fiber.StatusSeeOther)
}

// deskCheck is the form's live check: the same rules as saving (the first
// problem, named by the form's input), and the path the parcel would take,
// in site names, as soon as its destination is chosen.
func (s *server) deskCheck(c *fiber.Ctx) error {
	var in map[string]string
	if err := decode(c, &in); err != nil {
		return err
	}
	a := actor(c)
	r := shipment.RegistrationFrom(a, "", func(k string) string { return strings.TrimSpace(in[k]) })
	path, err := s.Parcels.CheckRegistration(c.UserContext(), a, r)
	out := fiber.Map{"path_names": []string{}}
	if err != nil {
		ae := apperr.As(err)
		if ae == nil {
			return err
		}
		lang := s.lang(c)
		out["error"] = ErrorDetail{Code: ae.Code, Message: s.cat.T(lang, ae.Code, s.readable(lang, ae.Args)),
			Field: shipment.FormField(ae.Field)}
		if s.Runs != nil && r.Destination.Site != "" && r.OriginSite != "" && shipment.FormField(ae.Field) != "dest_site" {
			path, _ = s.Runs.Path(c.UserContext(), r.OriginSite, r.Destination.Site)
		}
	}
	out["path_names"] = s.siteNames(s.lang(c), path)
	return c.JSON(out)
}

// siteNames names sites in the reader's language.
func (s *server) siteNames(lang string, codes []string) []string {
	names := make([]string, len(codes))
	for i, code := range codes {
		names[i] = code
		if st, ok := s.Ref.Site(code); ok {
			names[i] = st.NameZH
			if lang == "en" && st.NameEN != "" {
				names[i] = st.NameEN
			}
		}
	}
	return names
}

type parcelPageData struct {
	Parcel tracking.ParcelView
	Path   []string
	// The cancel form, while the parcel waits for its pickup: its reasons
	// and the scan id that makes a second submit a repeat.
	CanCancel     bool
	CancelReasons []deskChoice
	ScanID        string
}

// deskParcel shows a parcel as its desk sees it, with the label to print.
func (s *server) deskParcel(c *fiber.Ctx) error {
	no, err := waybillParam(c)
	if err != nil {
		return err
	}
	p, err := s.Parcels.Get(c.UserContext(), actor(c), no)
	if err != nil {
		return err
	}
	return s.renderParcel(c, fiber.StatusOK, p, nil)
}

// renderParcel shows a parcel's page, with the error of a refused cancel.
func (s *server) renderParcel(c *fiber.Ctx, status int, p tracking.ParcelView, err error) error {
	v := s.view(c, "page.parcel")
	s.localise(c, &p)
	d := parcelPageData{Parcel: p, Path: s.siteNames(v.Lang, p.Path), ScanID: "desk-" + randomToken(),
		CanCancel: p.CanCancel}
	for _, r := range shipment.CancelReasons {
		d.CancelReasons = append(d.CancelReasons, deskChoice{r, v.T("reason." + r)})
	}
	if ae := apperr.As(err); ae != nil {
		v.Errors["reason"] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
		v.Form["reason"] = c.FormValue("reason")
		status = statusOf[ae.Kind]
	}
	v.Data = d
	return s.renderPage(c, status, "parcel", v)
}

// deskCancel cancels a parcel before its pickup, with a reason: the
// core's cancel (its creator or an admin, not once a sealed run holds
// it), recorded as an event like any scan.
func (s *server) deskCancel(c *fiber.Ctx) error {
	no, err := waybillParam(c)
	if err != nil {
		return err
	}
	a := actor(c)
	_, serr := s.Parcels.Scan(c.UserContext(), a, tracking.ScanRequest{Code: no, Action: shipment.ActCancel,
		ScanID: c.FormValue("scan_id"), Source: shipment.SourceWeb, Reason: c.FormValue("reason")})
	if apperr.As(serr) == nil && serr != nil {
		return serr
	}
	if serr == nil {
		return c.Redirect("/desk/parcels/"+no, fiber.StatusSeeOther)
	}
	p, err := s.Parcels.Get(c.UserContext(), a, no)
	if err != nil {
		return err
	}
	return s.renderParcel(c, fiber.StatusOK, p, serr)
}

// deskPrint prints the labels named in the form (one or many), as a print
// run recorded on each parcel, and answers the PDF.
func (s *server) deskPrint(c *fiber.Ctx) error {
	nos := strings.FieldsFunc(c.FormValue("waybill_nos"), func(r rune) bool {
		return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t'
	})
	return s.printPDF(c, nos, c.FormValue("layout"))
}

type listPageData struct {
	Statuses []deskChoice
	Dests    []deskChoice
	Items    []tracking.ParcelView
	Next     string // the next page's address, "" on the last
	Paths    map[string]string
}

// deskList lists the parcels the user may see, newest first, by status
// and search (waybill, application number, name or phone tail), a page at
// a time by key (the core's cursor), as the API's list does.
func (s *server) deskList(c *fiber.Ctx) error {
	v := s.view(c, "page.parcels")
	for _, f := range []string{"status", "q", "dest", "from", "to"} {
		v.Form[f] = strings.TrimSpace(c.Query(f))
	}
	d := listPageData{Paths: map[string]string{}}
	for _, st := range shipment.Statuses {
		d.Statuses = append(d.Statuses, deskChoice{string(st), v.T("status." + string(st))})
	}
	for _, st := range s.Ref.Sites() {
		if st.Kind != shipment.SiteHub {
			d.Dests = append(d.Dests, deskChoice{st.Code, s.siteNames(v.Lang, []string{st.Code})[0]})
		}
	}
	page, err := s.Parcels.List(c.UserContext(), actor(c), tracking.Filter{Status: shipment.Status(v.Form["status"]),
		Text: v.Form["q"], Dest: v.Form["dest"], From: v.Form["from"], To: v.Form["to"], Cursor: c.Query("cursor"),
		Limit: 50, Purpose: "desk_list"})
	status := fiber.StatusOK
	if ae := apperr.As(err); ae != nil {
		field := ae.Field
		if field != "from" && field != "to" {
			field = ""
		}
		v.Errors[field] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
		status = statusOf[ae.Kind]
	} else if err != nil {
		return err
	}
	for i := range page.Items {
		s.localise(c, &page.Items[i])
		d.Paths[page.Items[i].WaybillNo] = strings.Join(s.siteNames(v.Lang, []string{page.Items[i].DestSite}), "")
	}
	d.Items = page.Items
	if page.NextCursor != "" {
		q := c.Context().QueryArgs()
		q.Set("cursor", page.NextCursor)
		d.Next = "/desk/parcels?" + string(q.QueryString())
	}
	v.Data = d
	return s.renderPage(c, status, "parcels", v)
}
