package web

import (
	"bytes"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Label layouts: one 100 × 150 mm page per label for label printers, or
// four labels per A4 sheet (scaled to A6, with cut marks).
const (
	layoutLabel = "label"
	layoutA4    = "a4"
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
	var b bytes.Buffer
	var flags labels.Flags
	var err error
	switch layout {
	case "", layoutLabel:
		flags, err = s.Labels.Batch(&b, ls)
	case layoutA4:
		flags, err = s.Labels.Sheet(&b, ls)
	default:
		return nil, nil, apperr.New(apperr.Invalid, "label.layout_unknown").OnField("layout").With("layout", layout)
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
	ls, err := s.Ledger.LabelsFor(c.UserContext(), actor(c), []string{no})
	if err != nil {
		return err
	}
	pdf, flags, err := s.render(c.Query("layout"), ls)
	if err != nil {
		return err
	}
	return sendPDF(c, no+".pdf", pdf, flags)
}

// printLabels prints a batch, in the order asked, and records a
// label_printed event on every parcel in it. Nothing is recorded unless the
// whole PDF was made, and no PDF is sent unless every event was recorded.
func (s *server) printLabels(c *fiber.Ctx) error {
	var r printRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if len(r.WaybillNos) == 0 {
		return apperr.New(apperr.Invalid, labels.CodeBatchEmpty).OnField("waybill_nos")
	}
	if len(r.WaybillNos) > labels.MaxBatch {
		return apperr.New(apperr.Invalid, labels.CodeBatchTooLarge).OnField("waybill_nos").
			With("count", len(r.WaybillNos)).With("max", labels.MaxBatch)
	}
	numbers := make([]string, len(r.WaybillNos))
	var bad []string
	for i, raw := range r.WaybillNos {
		code, err := shipment.ParseCode(raw)
		if err != nil || code.Kind != shipment.KindParcel {
			bad = append(bad, truncateRunes(raw, 40))
			continue
		}
		numbers[i] = code.Number
	}
	if len(bad) > 0 {
		return apperr.New(apperr.Invalid, "label.invalid_items").OnField("waybill_nos").
			With("items", strings.Join(bad, "、")).With("numbers", bad)
	}
	ctx := c.UserContext()
	a := actor(c)
	ls, err := s.Ledger.LabelsFor(ctx, a, numbers)
	if err != nil {
		return err
	}
	layout := r.Layout
	if layout == "" {
		layout = layoutLabel
	}
	pdf, flags, err := s.render(layout, ls)
	if err != nil {
		return err
	}
	if err := s.Ledger.RecordPrinted(ctx, a, numbers, layout); err != nil {
		return err
	}
	name := "labels-" + tracking.Local(time.Now()).Format("20060102-150405") + ".pdf"
	return sendPDF(c, name, pdf, flags)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
