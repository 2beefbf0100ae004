package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/sheet"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Bulk import: a department's export of the approval platform (CSV in
// UTF-8 or GBK, or XLSX) read row by row into registrations, each checked
// as one registration is; a preview kept on the server lists the good rows
// and every refused one with its reason; the clerk then registers the good
// rows, all in one transaction, or none. The core's unique application
// number makes a file imported again register nothing new.

// ImportMaxRows is the most data rows a file may have.
const ImportMaxRows = 10000

// ImportLife is how long a preview waits for the clerk's choice.
const ImportLife = 2 * time.Hour

// ErrImportDone marks a preview whose choice was made already (stores
// answer it from RegisterImport; the stored result stands).
var ErrImportDone = errors.New("the import's choice was made already")

// ImportColumn is a column of the import template: the registration field
// it fills (the desk form's name), its Chinese header and the other
// headers the approval platform's exports use for it.
type ImportColumn struct {
	Field    string
	Header   string
	Aliases  []string
	Required bool
	// AdminOnly: read for an admin (or a user of no site), who names each
	// row's origin; not in the template, whose users send from their site.
	AdminOnly bool
}

// ImportColumns are the template's columns, in its order.
var ImportColumns = []ImportColumn{
	{Field: "application_no", Header: "办件编号", Aliases: []string{"申请编号", "受理编号", "办件号", "业务编号"}, Required: true},
	{Field: "cert_type", Header: "证照类型", Aliases: []string{"证照名称", "证件名称"}},
	{Field: "cert_no", Header: "证照编号", Aliases: []string{"证照号码", "证书编号"}},
	{Field: "applicant_type", Header: "申请人类型", Aliases: []string{"申请主体类型", "主体类型"}},
	{Field: "name", Header: "申请人", Aliases: []string{"申请人姓名", "申请人名称", "姓名", "单位名称", "申请人姓名/单位名称"}, Required: true},
	{Field: "contact_name", Header: "联系人", Aliases: []string{"联系人姓名", "经办人"}},
	{Field: "phone", Header: "手机号码", Aliases: []string{"联系电话", "手机号", "手机", "电话"}, Required: true},
	{Field: "id_type", Header: "证件类型", Aliases: []string{"申请人证件类型"}},
	{Field: "id_number", Header: "证件号码", Aliases: []string{"身份证号", "身份证号码", "申请人证件号码", "统一社会信用代码"}, Required: true},
	{Field: "dest_site", Header: "送达地点", Aliases: []string{"领取大厅", "送达部门", "领取地点", "目的地"}, Required: true},
	{Field: "notes", Header: "备注", Aliases: []string{"说明"}},
	{Field: "origin_site", Header: "寄出单位", Aliases: []string{"寄出部门", "发件单位", "寄件单位"}, AdminOnly: true},
}

// importWords are the words an export writes for the coded values.
var importWords = map[string]map[string]string{
	"applicant_type": {"个人": "natural", "自然人": "natural", "单位": "legal", "法人": "legal", "企业": "legal",
		"法人或其他组织": "legal"},
	"id_type": {"居民身份证": "resident_id", "身份证": "resident_id", "护照": "passport",
		"港澳居民来往内地通行证": "hk_macau_permit", "港澳通行证": "hk_macau_permit",
		"台湾居民来往大陆通行证": "taiwan_permit", "台胞证": "taiwan_permit", "统一社会信用代码": "uscc"},
}

// ImportRow is a good row of a preview: the registration it makes.
type ImportRow struct {
	Line int                   `json:"line"`
	Reg  shipment.Registration `json:"reg"`
	Path []string              `json:"path"`
}

// ImportDraft is a preview as the store keeps it (its rows encrypted).
type ImportDraft struct {
	ID        string
	UserID    int64
	Site      string
	FileName  string
	Encoding  string
	Kind      shipment.Kind
	Total     int
	CreatedAt time.Time
	ExpiresAt time.Time
	Rows      []ImportRow
	Refused   []tracking.ImportRefusal
	Existing  []tracking.ImportExisting
	Result    *tracking.ImportResult // nil while the choice is open
}

// Registered is a parcel registered under an application number, with the
// hash of its registration (nil once purged).
type Registered struct {
	WaybillNo string
	RegHash   []byte
}

// ImportStore keeps previews and registers their rows.
type ImportStore interface {
	// SaveImport keeps a new draft (its rows encrypted) and forgets the
	// expired ones.
	SaveImport(ctx context.Context, d *ImportDraft) error
	// Import reads the user's draft. Errors: import.not_found (not_found)
	// for another user's, an unknown or an expired one.
	Import(ctx context.Context, id string, userID int64) (*ImportDraft, error)
	// RegisteredNumbers answers, of the application numbers given, those
	// the origin has registered for the kind.
	RegisteredNumbers(ctx context.Context, origin string, kind shipment.Kind, nos []string) (map[string]Registered, error)
	// RegisterImport registers ws in one set-based transaction with the
	// draft's result, the rows whose application number is taken meanwhile
	// skipped and counted; ws empty records a discard. A draft whose choice
	// was made already answers its stored result and ErrImportDone.
	RegisterImport(ctx context.Context, id string, userID int64, choice string, ws []RegisterWrite, now time.Time) (*tracking.ImportResult, error)
}

// Imports previews and registers bulk imports.
type Imports struct {
	Parcels *Parcels
	Store   ImportStore
	Now     func() time.Time
	// Sites and CertTypes list the reference data, to read the names an
	// export writes in place of codes.
	Sites     func() []shipment.Site
	CertTypes func() []shipment.CertType
}

// ImportTemplate is the template's header and one example row.
func ImportTemplate(kind shipment.Kind) ([]string, [][]string) {
	var h []string
	for _, c := range ImportColumns {
		if !c.AdminOnly {
			h = append(h, c.Header)
		}
	}
	if kind == shipment.KindMaterials {
		return h, [][]string{{"SW-2026-000001", "", "", "个人", "王小明", "", "13912345678", "居民身份证",
			"11010519491231002X", "长春市商务局", "申请材料一份"}}
	}
	return h, [][]string{{"SW-2026-000001", "营业执照", "", "个人", "王小明", "", "13912345678", "居民身份证",
		"11010519491231002X", "二道区政务服务中心", ""}}
}

// Preview reads an uploaded file and keeps its preview: every row checked
// as Register checks one, the rows registered before with the same content
// set apart, the refused ones with their reasons. The file's kind follows
// the actor's site (a department sends certificates, a hall application
// materials). Errors: action.role_forbidden; those of sheet.Read;
// import.columns_missing (invalid), import.duplicate_header (invalid).
func (s *Imports) Preview(ctx context.Context, a shipment.Actor, fileName string, data []byte) (tracking.ImportPreview, error) {
	if !shipment.MayTake(a.Role, shipment.ActRegister) {
		return tracking.ImportPreview{}, apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", "register")
	}
	t, err := sheet.Read(fileName, data, ImportMaxRows)
	if err != nil {
		return tracking.ImportPreview{}, err
	}
	cols, err := importHeader(t.Header)
	if err != nil {
		return tracking.ImportPreview{}, err
	}
	now := clock(s.Now)
	d := &ImportDraft{ID: newImportID(), UserID: a.ID, Site: a.Site, FileName: fileName, Encoding: t.Encoding,
		Kind: importKind(s.Parcels.Ref, a.Site), Total: len(t.Rows), CreatedAt: now, ExpiresAt: now.Add(ImportLife)}
	vocab := s.vocabulary()
	paths := map[[2]string][]string{} // the routes' answers, asked once per pair
	seen := map[string]int{}          // application number → line of its first row
	for i, rec := range t.Rows {
		line := t.Lines[i]
		get := func(field string) string {
			j, ok := cols[field]
			if !ok || j >= len(rec) {
				return ""
			}
			v := rec[j]
			if w, ok := vocab[field][v]; ok {
				return w
			}
			return v
		}
		r := shipment.RegistrationFrom(a, d.Kind, get)
		if r.Applicant.IDType == "" {
			r.Applicant.IDType = shipment.IDResident
			if r.Applicant.Type == shipment.Legal {
				r.Applicant.IDType = shipment.IDUSCC
			}
		}
		if r.Applicant.Type == "" {
			r.Applicant.Type = shipment.Natural
		}
		if r.ApplicationNo == "" {
			d.Refused = append(d.Refused, tracking.ImportRefusal{Line: line, Column: header(t.Header, cols, "application_no"),
				Code: "parcel.application_no_required"})
			continue
		}
		if first, dup := seen[r.ApplicationNo]; dup {
			d.Refused = append(d.Refused, tracking.ImportRefusal{Line: line, Column: header(t.Header, cols, "application_no"),
				Code: "import.duplicate_row", Args: map[string]any{"line": first}})
			continue
		}
		seen[r.ApplicationNo] = line
		path, err := s.Parcels.checkRegistration(ctx, a, &r, paths)
		if ae := apperr.As(err); ae != nil && (ae.Kind == apperr.Invalid || ae.Kind == apperr.Forbidden) {
			d.Refused = append(d.Refused, tracking.ImportRefusal{Line: line, Column: header(t.Header, cols, shipment.FormField(ae.Field)),
				Code: ae.Code, Args: ae.Args})
			continue
		} else if err != nil {
			return tracking.ImportPreview{}, err
		}
		d.Rows = append(d.Rows, ImportRow{Line: line, Reg: r, Path: path})
	}
	if err := s.setApartRegistered(ctx, d, t.Header, cols); err != nil {
		return tracking.ImportPreview{}, err
	}
	if err := s.Store.SaveImport(ctx, d); err != nil {
		return tracking.ImportPreview{}, err
	}
	return preview(d), nil
}

// setApartRegistered moves the rows whose application number the origin
// registered before to Existing (the same registration) or Refused
// (another one under the number).
func (s *Imports) setApartRegistered(ctx context.Context, d *ImportDraft, hdr []string, cols map[string]int) error {
	if len(d.Rows) == 0 {
		return nil
	}
	nos := make([]string, len(d.Rows))
	for i, r := range d.Rows {
		nos[i] = r.Reg.ApplicationNo
	}
	got, err := s.Store.RegisteredNumbers(ctx, d.Rows[0].Reg.OriginSite, d.Kind, nos)
	if err != nil || len(got) == 0 {
		return err
	}
	keep := d.Rows[:0]
	for _, r := range d.Rows {
		old, ok := got[r.Reg.ApplicationNo]
		switch {
		case !ok:
			keep = append(keep, r)
		case old.RegHash != nil && string(old.RegHash) == string(s.Parcels.regHash(&r.Reg)):
			d.Existing = append(d.Existing, tracking.ImportExisting{Line: r.Line, ApplicationNo: r.Reg.ApplicationNo, WaybillNo: old.WaybillNo})
		default:
			d.Refused = append(d.Refused, tracking.ImportRefusal{Line: r.Line, Column: header(hdr, cols, "application_no"),
				Code: "parcel.application_no_taken", Args: map[string]any{"application_no": r.Reg.ApplicationNo, "waybill_no": old.WaybillNo}})
		}
	}
	d.Rows = keep
	sortRefusals(d.Refused)
	return nil
}

// Get answers the user's preview (and its result once chosen). Errors:
// import.not_found.
func (s *Imports) Get(ctx context.Context, a shipment.Actor, id string) (tracking.ImportPreview, error) {
	d, err := s.Store.Import(ctx, id, a.ID)
	if err != nil {
		return tracking.ImportPreview{}, err
	}
	return preview(d), nil
}

// Commit makes the clerk's choice: "import" registers the preview's good
// rows in one transaction (rows registered meanwhile skipped), "discard"
// registers none. A choice made twice (a double click) answers the first
// result. Errors: import.not_found, import.choice_unknown (invalid),
// import.nothing_to_import (invalid).
func (s *Imports) Commit(ctx context.Context, a shipment.Actor, id, choice string) (tracking.ImportPreview, error) {
	if choice != "import" && choice != "discard" {
		return tracking.ImportPreview{}, apperr.New(apperr.Invalid, "import.choice_unknown").OnField("choice")
	}
	d, err := s.Store.Import(ctx, id, a.ID)
	if err != nil {
		return tracking.ImportPreview{}, err
	}
	if d.Result != nil {
		return preview(d), nil
	}
	var ws []RegisterWrite
	if choice == "import" {
		if len(d.Rows) == 0 {
			return tracking.ImportPreview{}, apperr.New(apperr.Invalid, "import.nothing_to_import")
		}
		now := s.Parcels.now()
		ws = make([]RegisterWrite, len(d.Rows))
		for i := range d.Rows {
			r := &d.Rows[i]
			ws[i] = RegisterWrite{Actor: a, Reg: &r.Reg, Source: shipment.SourceWeb, Path: r.Path, Now: now,
				RegHash: s.Parcels.regHash(&r.Reg)}
		}
	}
	res, err := s.Store.RegisterImport(ctx, id, a.ID, choice, ws, clock(s.Now))
	if err != nil && !errors.Is(err, ErrImportDone) {
		return tracking.ImportPreview{}, err
	}
	d.Result = res
	return preview(d), nil
}

// importKind is what a site sends: a department certificates, a hall
// application materials.
func importKind(ref Reference, site string) shipment.Kind {
	if k, ok := ref.SiteKind(site); ok && k != shipment.SiteDepartment {
		return shipment.KindMaterials
	}
	return shipment.KindCertificate
}

// vocabulary maps, per field, the words an export writes to codes: the
// fixed words, and the sites' and certificate types' names.
func (s *Imports) vocabulary() map[string]map[string]string {
	v := map[string]map[string]string{"dest_site": {}, "origin_site": {}, "cert_type": {}}
	for f, words := range importWords {
		v[f] = words
	}
	if s.Sites != nil {
		for _, st := range s.Sites() {
			for _, f := range []string{"dest_site", "origin_site"} {
				v[f][st.NameZH] = st.Code
				if st.NameEN != "" {
					v[f][st.NameEN] = st.Code
				}
			}
		}
	}
	if s.CertTypes != nil {
		for _, ct := range s.CertTypes() {
			v["cert_type"][ct.NameZH] = ct.Code
			if ct.NameEN != "" {
				v["cert_type"][ct.NameEN] = ct.Code
			}
		}
	}
	return v
}

// importHeader finds each template column in the file's header (by its
// header, an alias or the field's name). Errors: import.columns_missing
// with the missing required headers, import.duplicate_header.
func importHeader(hdr []string) (map[string]int, error) {
	cols := map[string]int{}
	for i, h := range hdr {
		h = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(h, "*"), "*"))
		for _, c := range ImportColumns {
			if h != c.Header && h != c.Field && !contains(c.Aliases, h) {
				continue
			}
			if _, dup := cols[c.Field]; dup {
				return nil, apperr.New(apperr.Invalid, "import.duplicate_header").With("column", h)
			}
			cols[c.Field] = i
		}
	}
	var missing []string
	for _, c := range ImportColumns {
		if _, ok := cols[c.Field]; c.Required && !ok {
			missing = append(missing, c.Header)
		}
	}
	if len(missing) > 0 {
		return nil, apperr.New(apperr.Invalid, "import.columns_missing").With("columns", strings.Join(missing, "、"))
	}
	return cols, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// header is the file's header of a field's column ("" when it has none).
func header(hdr []string, cols map[string]int, field string) string {
	if i, ok := cols[field]; ok && i < len(hdr) {
		return hdr[i]
	}
	for _, c := range ImportColumns {
		if c.Field == field {
			return c.Header
		}
	}
	return ""
}

func sortRefusals(r []tracking.ImportRefusal) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Line < r[j-1].Line; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}

func preview(d *ImportDraft) tracking.ImportPreview {
	p := tracking.ImportPreview{ID: d.ID, FileName: d.FileName, Encoding: d.Encoding, Kind: d.Kind, Total: d.Total,
		ExpiresAt: d.ExpiresAt, Refused: d.Refused, Existing: d.Existing, Result: d.Result}
	for _, r := range d.Rows {
		p.Good = append(p.Good, tracking.ImportGood{Line: r.Line, ApplicationNo: r.Reg.ApplicationNo,
			Name: shipment.MaskName(r.Reg.Applicant.Name), DestSite: r.Reg.Destination.Site, Path: r.Path})
	}
	return p
}

func newImportID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// regHash is the keyed hash of a normalised registration, as Register
// keeps it.
func (s *Parcels) regHash(r *shipment.Registration) []byte {
	b, _ := json.Marshal(r)
	return s.Keys.Hash("registration", string(b))
}

// Template is the import template for what the actor's site sends, as a
// file of the format ("xlsx" or "csv"): its name and content. Errors:
// import.format (invalid).
func (s *Imports) Template(a shipment.Actor, format string) (string, []byte, error) {
	kind := importKind(s.Parcels.Ref, a.Site)
	hdr, rows := ImportTemplate(kind)
	name := "证照导入模板"
	if kind == shipment.KindMaterials {
		name = "申请材料导入模板"
	}
	switch format {
	case "xlsx":
		b, err := sheet.XLSX("导入", hdr, rows)
		return name + ".xlsx", b, err
	case "csv":
		return name + ".csv", sheet.CSV(hdr, rows), nil
	}
	return "", nil, apperr.New(apperr.Invalid, "import.format")
}
