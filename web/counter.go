package web

import (
	"bytes"
	"cmp"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The handover counter: find the citizen's parcels by a label scan, the
// collection code alone, or the application number; show the slot in large
// type and what the holder must bring; hand over against the collection
// code or the holder's ID number, or to a proxy. Every step is the
// service's (List, Get, Scan with collect), as the API's.

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// windowCookie keeps the window a counter's browser sits at.
const windowCookie = "cc_window"

type counterParcel struct {
	tracking.ParcelView
	CertName, Bring string
	// ByCode: found by its collection code, which then is the check.
	ByCode bool
	ScanID string
}

type counterData struct {
	// Windows are the hall's windows; the collection records the one
	// chosen (as the scan's device, "window:<no>").
	Windows []shipment.Window
	Query   string
	Parcels []counterParcel
	// Ready counts the found parcels ready to hand over (listed first).
	Ready int
	Done  *tracking.ItemResult
	// Photo: the handover kept a proxy's authorisation photo.
	Photo bool
	// The parcel a failed handover was for (its form shows the error).
	Failed string
}

func (s *server) counterPage(c *fiber.Ctx) error {
	return s.renderCounter(c, fiber.StatusOK, counterData{Query: strings.TrimSpace(c.Query("q"))}, nil)
}

// renderCounter finds what the query names and shows it, with an error
// (from the lookup or a handover) beside the form it belongs to.
func (s *server) renderCounter(c *fiber.Ctx, status int, d counterData, failed error) error {
	v := s.view(c, "page.counter")
	a := actor(c)
	if failed != nil {
		ae := apperr.As(failed)
		if ae == nil {
			return failed
		}
		status = statusOf[ae.Kind]
		v.Errors[d.Failed] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
	}
	if d.Query != "" {
		found, err := s.counterFind(c, a, d.Query)
		if ae := apperr.As(err); ae != nil {
			v.Errors["q"] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
			if status == fiber.StatusOK {
				status = statusOf[ae.Kind]
			}
		} else if err != nil {
			return err
		}
		for _, p := range found {
			if d.Done != nil && p.Status != shipment.Ready {
				continue // after a handover: what the holder still has to collect
			}
			s.localise(c, &p)
			cp := counterParcel{ParcelView: p, ByCode: sixDigits.MatchString(d.Query), ScanID: "counter-" + randomToken()}
			if ct, ok := s.Ref.CertType(p.CertType); ok {
				cp.CertName, cp.Bring = ct.NameZH, ct.BringZH
				if v.Lang == "en" {
					cp.CertName, cp.Bring = ct.NameEN, ct.BringEN
				}
			}
			d.Parcels = append(d.Parcels, cp)
			if p.Status == shipment.Ready {
				d.Ready++
			}
		}
		// What waits here first: the holder's other parcels (on their
		// way, collected) follow, for the clerk to explain.
		slices.SortStableFunc(d.Parcels, func(x, y counterParcel) int {
			return cmp.Compare(readyFirst(x.Status), readyFirst(y.Status))
		})
		if len(found) == 0 && v.Errors["q"] == "" && d.Done == nil {
			v.Errors["q"] = v.T("counter.nothing")
		}
	}
	if st, ok := s.Ref.Site(a.Site); ok {
		d.Windows = st.Windows
	}
	v.Form["q"] = d.Query
	if d.Done != nil {
		v.Form["q"] = "" // the find field is for the next citizen
	}
	for _, f := range []string{"collection_code", "id_number", "proxy_name", "proxy_id_type", "proxy_id_number", "authorisation", "proxy", "window"} {
		v.Form[f] = strings.TrimSpace(c.FormValue(f))
	}
	if v.Form["window"] == "" {
		v.Form["window"] = c.Cookies(windowCookie) // the window this browser sits at
	}
	if v.Form["proxy_id_type"] == "" {
		v.Form["proxy_id_type"] = string(shipment.IDResident)
	}
	v.Data = d
	return s.renderPage(c, status, "counter", v)
}

// readyFirst orders the counter's finds: ready ones first.
func readyFirst(st shipment.Status) int {
	if st == shipment.Ready {
		return 0
	}
	return 1
}

// counterFind: a six-digit collection code at the staff's hall; otherwise
// a label's code (waybill) or an application number.
func (s *server) counterFind(c *fiber.Ctx, a shipment.Actor, q string) ([]tracking.ParcelView, error) {
	ctx := c.UserContext()
	if sixDigits.MatchString(q) {
		page, err := s.Parcels.List(ctx, a, tracking.Filter{Site: a.Site, CollectionCode: q})
		return page.Items, err
	}
	if code, err := shipment.ParseCode(q); err == nil && code.Kind == shipment.KindParcel {
		p, err := s.Parcels.Get(ctx, a, code.Number)
		if err != nil {
			return nil, err
		}
		return []tracking.ParcelView{p}, nil
	}
	page, err := s.Parcels.List(ctx, a, tracking.Filter{Site: a.Site, Text: q, Limit: 20, Purpose: "counter"})
	return page.Items, err
}

// counterCollect hands a parcel over. The form's scan id makes a second
// submit of the same form a repeat, never a second handover.
func (s *server) counterCollect(c *fiber.Ctx) error {
	d := counterData{Query: strings.TrimSpace(c.FormValue("q")), Failed: c.FormValue("waybill_no")}
	req := tracking.ScanRequest{Code: c.FormValue("waybill_no"), Action: shipment.ActCollect, ScanID: c.FormValue("scan_id"),
		Source: shipment.SourceWeb, CollectionCode: strings.TrimSpace(c.FormValue("collection_code")),
		IDNumber: strings.TrimSpace(c.FormValue("id_number"))}
	if w := strings.TrimSpace(c.FormValue("window")); w != "" && len(w) <= 16 {
		req.Device = "window:" + w
		s.setCookie(c, windowCookie, w, time.Now().AddDate(0, 0, 30))
	}
	if c.FormValue("proxy") == "1" {
		req.Proxy = &tracking.Proxy{Name: strings.TrimSpace(c.FormValue("proxy_name")),
			IDType: shipment.IDType(c.FormValue("proxy_id_type")), IDNumber: strings.TrimSpace(c.FormValue("proxy_id_number")),
			Authorisation: strings.TrimSpace(c.FormValue("authorisation"))}
		photo, err := formPhoto(c)
		if err != nil {
			return s.renderCounter(c, fiber.StatusOK, d, err)
		}
		req.Proxy.Photo = photo
	}
	res, err := s.Parcels.Scan(c.UserContext(), actor(c), req)
	if err != nil {
		return s.renderCounter(c, fiber.StatusOK, d, err)
	}
	it := res.Items[0]
	it.StatusText = s.text(s.lang(c), "status."+string(it.Status))
	// The holder's other parcels ready here stay listed, to hand over next.
	return s.renderCounter(c, fiber.StatusOK, counterData{Query: d.Query, Done: &it,
		Photo: req.Proxy != nil && len(req.Proxy.Photo) > 0}, nil)
}

// formPhoto reads the authorisation photo of the handover form (nil when
// none was taken); the service checks its size and type.
func formPhoto(c *fiber.Ctx) ([]byte, error) { return formFile(c, "authorisation_photo") }

// formFile reads a photo a form sent (nil when none was taken).
func formFile(c *fiber.Ctx, field string) ([]byte, error) {
	fh, err := c.FormFile(field)
	if err != nil || fh.Size == 0 {
		return nil, nil // none: the form was not multipart, or no file chosen
	}
	if fh.Size > PhotoBodyLimit {
		return nil, apperr.New(apperr.Invalid, "proxy.photo_too_large").OnField("proxy.photo").With("max_mb", PhotoBodyLimit>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, PhotoBodyLimit+1))
}

// PhotoBodyLimit is the largest authorisation photo the counter's form
// takes (service.MaxPhotoBytes).
const PhotoBodyLimit = 5 << 20

// counterPhoto shows the authorisation photo of a handover to a proxy, to
// the hall's staff and admins (the service decides, and records the read).
func (s *server) counterPhoto(c *fiber.Ctx) error {
	no, err := waybillParam(c)
	if err != nil {
		return err
	}
	t, b, err := s.Parcels.AuthorisationPhoto(c.UserContext(), actor(c), no)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, t)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="authorisation-`+no+`"`)
	return c.Send(b)
}

// counterReceipt prints a collected parcel's receipt (回执), masked as
// labels are.
func (s *server) counterReceipt(c *fiber.Ctx) error {
	no, err := waybillParam(c)
	if err != nil {
		return err
	}
	rc, err := s.PrintRuns.Receipt(c.UserContext(), actor(c), no)
	if err != nil {
		return err
	}
	if s.Labels == nil {
		return apperr.New(apperr.Unavailable, "service.unavailable")
	}
	var b bytes.Buffer
	flags, err := s.Labels.Receipt(&b, rc)
	if err != nil {
		return err
	}
	return sendPDF(c, "receipt-"+no+".pdf", b.Bytes(), flags)
}
