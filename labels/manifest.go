package labels

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// Manifest is a consolidation run's handover manifest (交接清单).
type Manifest struct {
	// RunNo is the run's number (CR…). Required; printed with its QR code
	// (the bare number) on every page.
	RunNo string
	// BagNo is the bag's number (CB…), when the run travels in one. Optional.
	BagNo string
	// Origin and Destination are the leg's ends; names required.
	Origin      Place
	Destination Place
	// Route is the route as printed, e.g. "D-SW → CC-HUB → NA-HALL". Optional.
	Route string
	// SealNo is the seal's number (封签号). Optional: when empty, a line is
	// left to write it by hand.
	SealNo string
	// CreatedAt is when the run was sealed or the manifest made (printed in
	// China Standard Time). Optional.
	CreatedAt time.Time
	// Parcels are the run's parcels, listed in the order given. At least
	// one, at most MaxManifestParcels.
	Parcels []ManifestParcel
}

// ManifestParcel is one line of a manifest.
type ManifestParcel struct {
	// WaybillNo is the parcel's number (CP…). Required.
	WaybillNo string
	// Kind is what the parcel carries; materials are listed as "申请材料"
	// when CertType is empty. Optional.
	Kind shipment.Kind
	// CertType is the certificate type's name; never its number.
	CertType string
	// RecipientName is the recipient's full name; the manifest prints
	// shipment.MaskName of it.
	RecipientName string
}

// A4 manifest layout, mm.
const (
	manMargin     = 12.0
	manTableTop   = 58.0
	manHeadH      = 7.0
	manRowH       = 7.0
	manBottom     = 282.0
	manClosingH   = 66.0 // counts and signature boxes
	manRowsOnPage = int((manBottom - manTableTop - manHeadH) / manRowH)
)

// manifestPages returns the number of pages for n parcels: the rows, then
// the counts and signatures, on a page of their own if the last page of
// rows has no room for them.
func manifestPages(n int) int {
	pages := (n + manRowsOnPage - 1) / manRowsOnPage
	last := n - (pages-1)*manRowsOnPage
	if manTableTop+manHeadH+float64(last)*manRowH+manClosingH > manBottom {
		pages++
	}
	return pages
}

// checkManifest checks m before anything is drawn.
func checkManifest(m *Manifest) error {
	switch {
	case !validNumberOf(m.RunNo, shipment.KindRun):
		return apperr.New(apperr.Invalid, CodeRunNoInvalid).OnField("run_no").With("run_no", shorten(m.RunNo))
	case m.BagNo != "" && !validNumberOf(m.BagNo, shipment.KindBag):
		return manifestFieldError(m, "bag_no")
	case strings.TrimSpace(m.Origin.Name) == "":
		return manifestFieldError(m, "origin")
	case strings.TrimSpace(m.Destination.Name) == "":
		return manifestFieldError(m, "destination")
	case len(m.Parcels) == 0:
		return apperr.New(apperr.Invalid, CodeManifestEmpty)
	case len(m.Parcels) > MaxManifestParcels:
		return apperr.New(apperr.Invalid, CodeManifestTooLarge).With("count", len(m.Parcels)).With("max", MaxManifestParcels)
	}
	var ps []problem
	for i, p := range m.Parcels {
		if !validParcelNo(p.WaybillNo) {
			ps = append(ps, problem{index: i, number: p.WaybillNo, field: "waybill_no"})
		}
	}
	if len(ps) > 0 {
		return listError(CodeManifestInvalid, ps)
	}
	return nil
}

func manifestFieldError(m *Manifest, field string) error {
	return apperr.New(apperr.Invalid, CodeFieldInvalid).OnField(field).With("field", field).With("items", itemName(0, m.RunNo))
}

// Manifest renders a run's handover manifest on A4 pages to w: on every
// page the run number with its QR code, the route, bag and seal numbers and
// the date, then the table of parcels (waybill number, certificate type,
// masked recipient, a box to tick), "page x / y"; after the last row the
// counts (in all and per certificate type) and signature boxes, with times,
// for the party handing over and the party receiving. Flags lists parcels
// whose names had characters printed as code-point boxes (Index: the
// parcel's position; -1 for the header and closing, e.g. a site name). On
// error nothing is written.
func (r *Renderer) Manifest(w io.Writer, m Manifest) (Flags, error) {
	if err := checkManifest(&m); err != nil {
		return nil, err
	}
	return r.render(w, a4W, a4H, func(d *doc) error {
		return d.manifest(&m)
	})
}

// manifest columns: x offsets and widths.
var manCols = [...]struct {
	title string
	x, w  float64
}{
	{"序号", manMargin, 14},
	{"运单号", manMargin + 14, 50},
	{"证照类型", manMargin + 64, 56},
	{"收件人", manMargin + 120, 44},
	{"核对", manMargin + 164, 22},
}

func (d *doc) manifest(m *Manifest) error {
	pages := manifestPages(len(m.Parcels))
	row := 0
	for page := 1; page <= pages; page++ {
		d.addPage()
		if err := d.manifestHeader(m, page, pages); err != nil {
			return err
		}
		d.endItem(-1, m.RunNo) // the same on every page
		y := manTableTop
		if row < len(m.Parcels) {
			d.manifestTableHead(y)
			y += manHeadH
			for ; row < len(m.Parcels) && y+manRowH <= manBottom+0.01; row++ {
				d.manifestRow(row, &m.Parcels[row], y)
				d.endItem(row, m.Parcels[row].WaybillNo)
				y += manRowH
			}
		}
		if row == len(m.Parcels) && page == pages {
			d.manifestClosing(m, y+4)
			d.endItem(-1, m.RunNo)
		}
	}
	return nil
}

func (d *doc) manifestHeader(m *Manifest, page, pages int) error {
	const x, w = manMargin, a4W - 2*manMargin - 34
	d.text("集中流转交接清单", x, 10, w, 10, 18, 12, 1, style{bold: true})
	d.text("批次号  "+m.RunNo, x, 20, w, 7, 13, 9, 1, style{bold: true})
	var info strings.Builder
	info.WriteString("线路：" + m.Origin.text() + " → " + m.Destination.text())
	if route := strings.TrimSpace(m.Route); route != "" {
		info.WriteString("（" + route + "）")
	}
	info.WriteString("\n")
	if m.BagNo != "" {
		info.WriteString("封袋号：" + m.BagNo + "    ")
	}
	if seal := strings.TrimSpace(m.SealNo); seal != "" {
		info.WriteString("封签号：" + seal)
	} else {
		info.WriteString("封签号：＿＿＿＿＿＿＿＿")
	}
	if !m.CreatedAt.IsZero() {
		info.WriteString("    日期：" + m.CreatedAt.In(chinaTime).Format("2006-01-02 15:04"))
	}
	d.text(info.String(), x, 28, w, 20, 10, 7, 3, style{})
	if _, err := d.qr(m.RunNo, a4W-manMargin-32, 8, 32); err != nil {
		return err
	}
	d.hline(manMargin, a4W-manMargin, 52, 0.4, false)
	// footer
	d.line([]rune("第 "+strconv.Itoa(page)+" / "+strconv.Itoa(pages)+" 页"), manMargin, 290, a4W-2*manMargin, style{size: 9, align: 'C'})
	d.line([]rune(m.RunNo), manMargin, 290, 60, style{size: 8})
	return nil
}

func (d *doc) manifestTableHead(y float64) {
	d.fillRect(manMargin, y, a4W-2*manMargin, manHeadH, 0.88)
	for _, c := range manCols {
		d.line(prepare(c.title, false), c.x+1.5, y+4.9, c.w-3, style{size: 10, bold: true})
	}
	d.hline(manMargin, a4W-manMargin, y+manHeadH, 0.3, false)
}

func (d *doc) manifestRow(i int, p *ManifestParcel, y float64) {
	const pad = 1.5
	d.line([]rune(strconv.Itoa(i+1)), manCols[0].x+pad, y+4.9, manCols[0].w-2*pad, style{size: 10})
	d.line([]rune(p.WaybillNo), manCols[1].x+pad, y+4.9, manCols[1].w-2*pad, style{size: 10.5})
	ct := strings.TrimSpace(p.CertType)
	if ct == "" && p.Kind == shipment.KindMaterials {
		ct = "申请材料"
	}
	d.cell(ct, manCols[2].x+pad, y, manCols[2].w-2*pad)
	d.cell(shipment.MaskName(p.RecipientName), manCols[3].x+pad, y, manCols[3].w-2*pad)
	d.rect(manCols[4].x+(manCols[4].w-4)/2, y+1.5, 4, 4, 0.25)
	d.hline(manMargin, a4W-manMargin, y+manRowH, 0.1, false)
}

// cell draws s in a table cell (one line at 10 pt, shrinking, then two).
func (d *doc) cell(s string, x, y, w float64) {
	f := d.r.fit(prepare(s, false), w, manRowH-0.6, 10, 7, 1)
	top := y + (manRowH-f.height())/2
	d.lines(f, x, top, w, style{})
}

func (d *doc) manifestClosing(m *Manifest, y float64) {
	const x, w = manMargin, a4W - 2*manMargin
	// counts, in all and per certificate type in order of first appearance
	var order []string
	counts := map[string]int{}
	for _, p := range m.Parcels {
		ct := strings.TrimSpace(p.CertType)
		if ct == "" {
			ct = kindName(p.Kind)
			if p.Kind == "" {
				ct = "其他"
			}
		}
		if counts[ct] == 0 {
			order = append(order, ct)
		}
		counts[ct]++
	}
	var sum strings.Builder
	sum.WriteString("合计 " + strconv.Itoa(len(m.Parcels)) + " 件：")
	for i, ct := range order {
		if i > 0 {
			sum.WriteString("；")
		}
		sum.WriteString(ct + " " + strconv.Itoa(counts[ct]) + " 件")
	}
	h := d.text(sum.String(), x, y, w, 14, 11, 7, 3, style{bold: true})
	y += max(h, 6) + 3

	// signature boxes
	const boxW, boxH = 89.0, 40.0
	for i, party := range []struct{ title, site string }{
		{"交出方", m.Origin.text()},
		{"接收方", m.Destination.text()},
	} {
		bx := x + float64(i)*(w-boxW)
		d.rect(bx, y, boxW, boxH, 0.3)
		d.text(party.title+"："+party.site, bx+3, y+2, boxW-6, 9, 10, 7, 2, style{bold: true})
		d.line([]rune("签名："), bx+3, y+19, 20, style{size: 10})
		d.hline(bx+16, bx+boxW-4, y+20, 0.2, false)
		d.line([]rune("时间：      年    月    日    时    分"), bx+3, y+31, boxW-6, style{size: 10})
		d.line([]rune("核对件数：      件"), bx+3, y+37.5, boxW-6, style{size: 9})
	}
}
