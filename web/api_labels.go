package web

import (
	"bytes"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/tracking"
)

// printRequest asks for a print run of labels.
type printRequest struct {
	WaybillNos []string `json:"waybill_nos"`
	Layout     string   `json:"layout,omitempty"`
}

func (s *server) render(layout string, ls []labels.Label) ([]byte, labels.Flags, error) {
	if s.Labels == nil {
		return nil, nil, apperr.New(apperr.Unavailable, "service.unavailable")
	}
	layout, err := labels.CheckLayout(layout)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	var flags labels.Flags
	if layout == labels.LayoutA4 {
		flags, err = s.Labels.Sheet(&b, ls)
	} else {
		flags, err = s.Labels.Batch(&b, ls)
	}
	return b.Bytes(), flags, err
}

// sendPDF answers with a PDF; flagged labels (characters printed as
// code-point boxes) are listed in the X-Label-Flags header.
func sendPDF(c *fiber.Ctx, name string, pdf []byte, flags labels.Flags) error {
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	if len(flags) > 0 {
		parts := make([]string, len(flags))
		for i, f := range flags {
			parts[i] = f.String()
		}
		c.Set("X-Label-Flags", strings.Join(parts, "; "))
	}
	return c.Send(pdf)
}

// viewLabel shows one parcel's label: no side effects (printing is POST /labels).
func (s *server) viewLabel(c *fiber.Ctx) error {
	no, err := waybillParam(c)
	if err != nil {
		return err
	}
	l, err := s.PrintRuns.Label(c.UserContext(), actor(c), no)
	if err != nil {
		return err
	}
	pdf, flags, err := s.render(c.Query("layout"), []labels.Label{l})
	if err != nil {
		return err
	}
	return sendPDF(c, no+".pdf", pdf, flags)
}

// printLabels prints a batch, in the order asked, and records a
// label_printed event on every parcel in it (service.Labels.Print): nothing
// is recorded unless the whole PDF was made, and no PDF is sent unless
// every event was recorded.
func (s *server) printLabels(c *fiber.Ctx) error {
	var r printRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	return s.printPDF(c, r.WaybillNos, r.Layout)
}

// printPDF prints the labels of a print run (recorded on every parcel in
// it) and answers the PDF: for the API and the desk's print form.
func (s *server) printPDF(c *fiber.Ctx, numbers []string, layout string) error {
	var pdf []byte
	var flags labels.Flags
	err := s.PrintRuns.Print(c.UserContext(), actor(c), numbers, layout, func(layout string, ls []labels.Label) error {
		var err error
		pdf, flags, err = s.render(layout, ls)
		return err
	})
	if err != nil {
		return err
	}
	name := "labels-" + tracking.Local(time.Now()).Format("20060102-150405") + ".pdf"
	return sendPDF(c, name, pdf, flags)
}
