package postgres_test

import (
	"bytes"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Our courier delivers an express parcel: out for delivery draws a delivery
// code and texts it; at the door no handover without the code (or the last
// four digits of the recipient's ID number), a photo and a signature; the
// proof is kept encrypted with the event, the code then gone, and the
// purge deletes the proof. A carrier's own push needs none of it.
func TestExpressDeliveryWithProof(t *testing.T) {
	t.Parallel()
	b := setup(t)
	express := func() string {
		r := certReg()
		r.Destination = shipment.Destination{Kind: shipment.DestAddress, Address: &shipment.Address{Province: "吉林省",
			City: "长春市", District: "南关区", Detail: "人民大街 100 号", Unit: "2 单元 301 室"}}
		no := b.register(t, r).WaybillNo
		b.mustScan(t, "courier", no, shipment.ActPickup, "D-SW", shipment.InTransit)
		b.mustScan(t, "courier", no, shipment.ActDispatch, "", shipment.OutForDelivery)
		return no
	}
	photo := pngPhoto(t)
	proof := func(p tracking.DeliveryProof) func(*tracking.ScanRequest) {
		return func(r *tracking.ScanRequest) { r.Proof = &p }
	}
	no := express()
	code := b.readyCode(t) // the out-for-delivery SMS's code
	if len(code) != 6 {
		t.Fatalf("delivery code %q", code)
	}
	before := b.parcelCounts(t, no)
	for _, c := range []struct {
		p    *tracking.DeliveryProof
		want string
	}{
		{nil, "delivery.verification_required"},
		{&tracking.DeliveryProof{Code: "000000", Photo: photo, Signature: photo}, "delivery.code_wrong"},
		{&tracking.DeliveryProof{IDTail: "0021", Photo: photo, Signature: photo}, "delivery.id_mismatch"},
		{&tracking.DeliveryProof{Code: code, Signature: photo}, "delivery.photo_required"},
		{&tracking.DeliveryProof{Code: code, Photo: photo}, "delivery.signature_required"},
		{&tracking.DeliveryProof{Code: code, Photo: photo, Signature: []byte("\xff\xd8\xff\xe0 a jpeg")}, "delivery.signature_required"},
	} {
		var mods []func(*tracking.ScanRequest)
		if c.p != nil {
			mods = append(mods, proof(*c.p))
		}
		if _, err := b.scan(t, "courier", no, shipment.ActDeliver, "", mods...); apperr.CodeOf(err) != c.want {
			t.Errorf("deliver with %+v: %v, want %s", c.p, err, c.want)
		}
	}
	if after := b.parcelCounts(t, no); after != before {
		t.Fatalf("refused deliveries changed %s to %s", before, after)
	}
	b.mustScan(t, "courier", no, shipment.ActDeliver, "", shipment.Delivered,
		proof(tracking.DeliveryProof{Code: code, Photo: photo, Signature: photo}))
	var method string
	var enc []byte
	if err := b.pool.QueryRow(b.ctx, `SELECT d.method, d.photo_enc FROM delivery_proofs d JOIN parcels p ON p.id = d.parcel_id
		WHERE p.waybill_no = $1`, no).Scan(&method, &enc); err != nil || method != "code" || bytes.Contains(enc, photo[8:40]) {
		t.Fatalf("the proof kept: %s %v (clear: %v)", method, err, bytes.Contains(enc, photo[8:40]))
	}
	if n := b.countRows(t, `SELECT count(*) FROM delivery_codes dc JOIN parcels p ON p.id = dc.parcel_id WHERE p.waybill_no = $1`, no); n != 0 {
		t.Errorf("the delivery code outlived the delivery")
	}
	// By the last digits of the ID number, on a second parcel.
	other := express()
	b.mustScan(t, "courier", other, shipment.ActDeliver, "", shipment.Delivered,
		proof(tracking.DeliveryProof{IDTail: holderID[len(holderID)-4:], Photo: photo, Signature: photo}))
	// The purge deletes the proofs with the rest.
	b.clock.Add(400 * 24 * 3600 * 1e9)
	if _, err := b.ledger.PurgePersonal(b.ctx, 180*24*3600*1e9); err != nil {
		t.Fatal(err)
	}
	if n := b.countRows(t, `SELECT count(*) FROM delivery_proofs`); n != 0 {
		t.Errorf("%d delivery proofs after the purge", n)
	}
}
