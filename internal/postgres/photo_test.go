package postgres_test

import (
	"bytes"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func pngPhoto(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A proxy's authorisation photo is checked (an image, at most 5 MB), kept
// encrypted with the handover, shown to the hall's staff and admins only —
// each showing recorded — and purged with the personal data.
func TestAuthorisationPhoto(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.ready(t)
	photo := pngPhoto(t)
	proxy := func(p []byte) func(*tracking.ScanRequest) {
		return func(r *tracking.ScanRequest) {
			r.IDNumber = holderID
			r.Proxy = &tracking.Proxy{Name: "李四", IDType: shipment.IDResident, IDNumber: holderID, Photo: p}
		}
	}
	for name, c := range map[string]struct {
		photo []byte
		code  string
	}{
		"not an image": {[]byte("%PDF-1.4 not a photo"), "proxy.photo_type"},
		"too large":    {append(bytes.Clone(photo), make([]byte, 5<<20)...), "proxy.photo_too_large"},
	} {
		if _, err := b.scan(t, "staff", no, shipment.ActCollect, "", proxy(c.photo)); apperr.CodeOf(err) != c.code {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// A photo alone stands for the authorisation (no number).
	b.mustScan(t, "staff", no, shipment.ActCollect, "", shipment.Collected, proxy(photo))
	var enc []byte
	if err := b.pool.QueryRow(b.ctx, `SELECT photo_enc FROM handover_people`).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("IHDR")) {
		t.Fatal("the photo is stored in clear")
	}
	for who, want := range map[string]string{"staff": "", "admin": "", "staffNG": "proxy.photo_forbidden", "clerk": "proxy.photo_forbidden"} {
		typ, got, err := b.svc().AuthorisationPhoto(b.ctx, b.actors[who], no)
		if (want == "" && (err != nil || typ != "image/png" || !bytes.Equal(got, photo))) || (want != "" && apperr.CodeOf(err) != want) {
			t.Errorf("%s: %s %d bytes, %v", who, typ, len(got), err)
		}
	}
	if n := b.countRows(t, `SELECT count(*) FROM personal_reads WHERE purpose = 'authorisation_photo' AND $1 = ANY(waybills)`, no); n != 2 {
		t.Fatalf("%d showings recorded, want 2 (staff and admin)", n)
	}
	b.clock.Add(400 * 24 * time.Hour)
	if _, err := b.ledger.PurgePersonal(b.ctx, 180*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.svc().AuthorisationPhoto(b.ctx, b.actors["admin"], no); apperr.CodeOf(err) != "proxy.photo_not_found" {
		t.Fatalf("after the purge: %v", err)
	}
}
