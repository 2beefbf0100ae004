package postgres_test

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/internal/sheet"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func (b *bundle) imports() *service.Imports {
	return &service.Imports{Parcels: b.svc(), Store: b.ledger, Now: b.ledger.Now, Sites: b.ledger.Ref.Sites,
		CertTypes: b.ledger.Ref.CertTypes}
}

// importFile is a GBK CSV of the template's columns (as the approval
// platform exports them): two good rows (one naming its hall and type by
// their Chinese names), a bad phone, and a repeat of the first row.
func importFile(t *testing.T, nos ...string) []byte {
	t.Helper()
	hdr, _ := service.ImportTemplate(shipment.KindCertificate)
	rows := [][]string{
		{nos[0], "business_licence", "ZZ-1", "个人", "王小明", "", "13912345678", "居民身份证", holderID, "CC-WIN", ""},
		{nos[1], "不动产权证书", "", "个人", "李四", "", "13812345678", "", holderID, "南关区政务服务中心", "加急"},
		{nos[2], "营业执照", "", "个人", "赵五", "", "1381234", "", holderID, "CC-WIN", ""},
		{nos[0], "business_licence", "ZZ-1", "个人", "王小明", "", "13912345678", "居民身份证", holderID, "CC-WIN", ""},
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(sheet.CSV(hdr, rows)[3:])
	if err != nil {
		t.Fatal(err)
	}
	return gbk
}

// previewFile previews the clerk's importFile of new application numbers.
func (b *bundle) previewFile(t *testing.T) ([]string, []byte, tracking.ImportPreview) {
	t.Helper()
	nos := []string{"IMP-" + itoa(nextApplication()), "IMP-" + itoa(nextApplication()), "IMP-" + itoa(nextApplication())}
	file := importFile(t, nos...)
	p, err := b.imports().Preview(b.ctx, b.actors["clerk"], "导出.csv", file)
	if err != nil {
		t.Fatal(err)
	}
	return nos, file, p
}

// A file is previewed with its refused rows and why, then its good rows
// are registered in one transaction; the same file again registers
// nothing new, and a choice made twice answers the first.
func TestImportRegistersTheGoodRowsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	im, clerk := b.imports(), b.actors["clerk"]
	nos, file, p := b.previewFile(t)
	if p.Encoding != "gbk" || p.Total != 4 || len(p.Good) != 2 || len(p.Refused) != 2 || len(p.Existing) != 0 {
		t.Fatalf("preview: %+v", p)
	}
	if r := p.Refused[0]; r.Line != 4 || r.Column != "手机号码" || r.Code != "phone.invalid" {
		t.Fatalf("bad phone refused as %+v", r)
	}
	if r := p.Refused[1]; r.Line != 5 || r.Code != "import.duplicate_row" || r.Args["line"] != 2 {
		t.Fatalf("repeated row refused as %+v", r)
	}
	if g := p.Good[1]; g.DestSite != "NG-HALL" || g.Name == "李四" {
		t.Fatalf("second row read as %+v (a hall by its name, the name masked)", g)
	}
	if n := b.countRows(t, `SELECT count(*) FROM parcels`); n != 0 {
		t.Fatalf("a preview registered %d parcels", n)
	}
	if _, err := im.Get(b.ctx, b.actors["clerkGT"], p.ID); apperr.CodeOf(err) != "import.not_found" {
		t.Fatalf("another user read the preview: %v", err)
	}
	var enc []byte
	if err := b.pool.QueryRow(b.ctx, `SELECT rows_enc FROM import_drafts WHERE id = $1`, p.ID).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(enc), "13912345678") || strings.Contains(string(enc), holderID) {
		t.Fatal("the draft keeps personal data in clear")
	}

	done, err := im.Commit(b.ctx, clerk, p.ID, "import")
	if err != nil || done.Result == nil || len(done.Result.Created) != 2 || done.Result.Existing != 0 {
		t.Fatalf("import: %+v %v", done.Result, err)
	}
	if n := b.countRows(t, `SELECT count(*) FROM parcels p JOIN parcel_people pp ON pp.parcel_id = p.id
		JOIN parcel_links pl ON pl.parcel_id = p.id JOIN events e ON e.parcel_id = p.id AND e.seq = 1
		WHERE p.waybill_no = ANY($1) AND e.action = 'register' AND p.status = 'registered'`, done.Result.Created); n != 2 {
		t.Fatalf("%d imported parcels with their people, link and first event, want 2", n)
	}
	if n := b.countRows(t, `SELECT count(*) FROM parcels WHERE application_no = $1 AND path[cardinality(path)] = 'NG-HALL'`, nos[1]); n != 1 {
		t.Fatal("the second row's parcel does not go to NG-HALL")
	}
	v, err := b.svc().Get(b.ctx, clerk, done.Result.Created[0])
	if err != nil || v.Applicant == nil || !strings.HasSuffix(v.Applicant.ID, holderID[len(holderID)-4:]) || v.PrivateURL == "" {
		t.Fatalf("imported parcel as the clerk sees it: %+v %v", v, err)
	}
	again, err := im.Commit(b.ctx, clerk, p.ID, "import")
	if err != nil || strings.Join(again.Result.Created, ",") != strings.Join(done.Result.Created, ",") {
		t.Fatalf("the choice made twice: %+v %v", again.Result, err)
	}

	// The same file again: the two rows are found registered.
	p2, err := im.Preview(b.ctx, clerk, "导出.csv", file)
	if err != nil || len(p2.Good) != 0 || len(p2.Existing) != 2 || p2.Existing[0].WaybillNo != done.Result.Created[0] {
		t.Fatalf("the same file again: %+v %v", p2, err)
	}
	if _, err := im.Commit(b.ctx, clerk, p2.ID, "import"); apperr.CodeOf(err) != "import.nothing_to_import" {
		t.Fatalf("importing no good rows: %v", err)
	}
	if n := b.countRows(t, `SELECT count(*) FROM parcels`); n != 2 {
		t.Fatalf("%d parcels after the same file twice, want 2", n)
	}
}

// A row registered between the preview and the choice is skipped and
// counted; a discarded preview registers nothing and cannot be imported
// after.
func TestImportSkipsRowsRegisteredMeanwhile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	im, clerk := b.imports(), b.actors["clerk"]
	nos, file, p := b.previewFile(t)
	other, err := im.Preview(b.ctx, clerk, "a.csv", file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Commit(b.ctx, clerk, other.ID, "discard"); err != nil {
		t.Fatal(err)
	}
	if d, err := im.Commit(b.ctx, clerk, other.ID, "import"); err != nil || d.Result.Choice != "discard" {
		t.Fatalf("import after a discard: %+v %v", d.Result, err)
	}
	r := certReg()
	r.ApplicationNo = nos[0]
	r.Applicant.Name = "王小明"
	b.register(t, r)
	done, err := im.Commit(b.ctx, clerk, p.ID, "import")
	if err != nil || len(done.Result.Created) != 1 || done.Result.Existing != 1 {
		t.Fatalf("import with a row registered meanwhile: %+v %v", done.Result, err)
	}
	if n := b.countRows(t, `SELECT count(*) FROM parcels`); n != 2 {
		t.Fatalf("%d parcels, want 2", n)
	}
	if _, err := im.Commit(b.ctx, clerk, p.ID, "maybe"); apperr.CodeOf(err) != "import.choice_unknown" {
		t.Fatalf("an unknown choice: %v", err)
	}
	if _, err := im.Preview(b.ctx, b.actors["courier"], "a.csv", file); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("a courier imported: %v", err)
	}
	if _, err := im.Preview(b.ctx, clerk, "a.csv", []byte("申请人,手机号码\n王小明,13912345678\n")); apperr.CodeOf(err) != "import.columns_missing" {
		t.Fatalf("a file without the required columns: %v", err)
	}
}

// The templates to download are files the import reads, their example
// row good: a department's of certificates, a hall's of materials.
func TestImportTemplatesRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	im := b.imports()
	for _, who := range []string{"clerk", "staffNG"} {
		for _, format := range []string{"xlsx", "csv"} {
			name, data, err := im.Template(b.actors[who], format)
			if err != nil {
				t.Fatal(err)
			}
			p, err := im.Preview(b.ctx, b.actors[who], name, data)
			if err != nil || len(p.Good) != 1 || len(p.Refused) != 0 {
				t.Fatalf("%s's %s template %s: %+v %v", who, format, name, p, err)
			}
			want := shipment.KindCertificate
			if who == "staffNG" {
				want = shipment.KindMaterials
			}
			if p.Kind != want {
				t.Fatalf("%s's template is of %s", who, p.Kind)
			}
		}
	}
	if _, _, err := im.Template(b.actors["clerk"], "pdf"); apperr.CodeOf(err) != "import.format" {
		t.Fatalf("a template as pdf: %v", err)
	}
}

// An admin names each row's origin (寄出单位, by name or code); without it
// the row is refused.
func TestAdminImportsWithTheOrigin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hdr, rows := service.ImportTemplate(shipment.KindCertificate)
	hdr = append(hdr, "寄出单位")
	good := append(append([]string(nil), rows[0]...), "长春市商务局")
	none := append(append([]string(nil), rows[0]...), "")
	none[0] = "SW-2026-000002"
	p, err := b.imports().Preview(b.ctx, b.actors["admin"], "a.csv", sheet.CSV(hdr, [][]string{good, none}))
	if err != nil || len(p.Good) != 1 || len(p.Refused) != 1 || p.Refused[0].Line != 3 {
		t.Fatalf("admin's preview: %+v %v", p, err)
	}
	done, err := b.imports().Commit(b.ctx, b.actors["admin"], p.ID, "import")
	if err != nil || len(done.Result.Created) != 1 {
		t.Fatalf("admin's import: %+v %v", done.Result, err)
	}
	if n := b.countRows(t, `SELECT count(*) FROM parcels WHERE origin_site = 'D-SW' AND waybill_no = $1`, done.Result.Created[0]); n != 1 {
		t.Fatal("the admin's row was not registered from D-SW")
	}
}
