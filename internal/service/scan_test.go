package service

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

var t0 = time.Date(2026, time.March, 16, 9, 30, 0, 0, time.UTC)

type hasher struct{}

func (hasher) Hash(domain, value string) []byte {
	h := sha256.Sum256([]byte(domain + "\x00" + value))
	return h[:]
}

type ref struct{ Reference }

func (ref) Site(code string) (shipment.Site, bool) {
	return shipment.Site{Code: code}, code == "D-SW" || code == "ED-HALL"
}
func (ref) CertType(string) (shipment.CertType, bool) { return shipment.CertType{}, false }

// store is a store in memory that records each call, so a test sees what a
// scan asks of the database.
type store struct {
	Store                       // what a test does not expect to be called: nil, it panics
	parcels  []*shipment.Parcel // answered in turn by ParcelByNumber (the last one again)
	prior    *tracking.ScanResult
	fp       []byte
	writeErr error
	calls    []string
	writes   []ScanWrite
	step     BagStep
	stepErr  error
}

func (s *store) ParcelByNumber(_ context.Context, number string) (*shipment.Parcel, error) {
	s.calls = append(s.calls, "parcel")
	n := 0
	for _, c := range s.calls {
		if c == "parcel" {
			n++
		}
	}
	p := *s.parcels[min(n, len(s.parcels))-1]
	return &p, nil
}

func (s *store) PriorScan(context.Context, string) (tracking.ScanResult, []byte, bool, error) {
	s.calls = append(s.calls, "prior")
	if s.prior == nil {
		return tracking.ScanResult{}, nil, false, nil
	}
	return *s.prior, s.fp, true, nil
}

func (s *store) Holder(context.Context, int64) (Holder, error) {
	s.calls = append(s.calls, "holder")
	return Holder{}, nil
}

func (s *store) ApplyScan(_ context.Context, w ScanWrite) (int, error) {
	s.calls = append(s.calls, "apply")
	s.writes = append(s.writes, w)
	if s.writeErr != nil {
		return 0, s.writeErr
	}
	return 2, nil
}

func (s *store) ScanBag(_ context.Context, w BagWrite, step func(Run) (BagStep, error)) (tracking.ScanResult, error) {
	s.calls = append(s.calls, "bag")
	s.step, s.stepErr = step(Run{FromSite: "D-SW", ToSite: "ED-HALL", Status: "sealed"})
	return w.Answer, s.stepErr
}

func awaiting() *shipment.Parcel {
	return &shipment.Parcel{ID: 1, WaybillNo: shipment.NewNumber(shipment.KindParcel), Kind: shipment.KindCertificate,
		OriginSite: "D-SW", DestKind: shipment.DestHall, DestSite: "ED-HALL", Path: []string{"D-SW", "ED-HALL"},
		Status: shipment.AwaitingPickup, Version: 3}
}

var courier = shipment.Actor{ID: 9, Role: shipment.RoleCourier}

func scans(st *store) *Parcels {
	return &Parcels{Store: st, Keys: hasher{}, Ref: ref{}, Now: func() time.Time { return t0 }}
}

// A plain scan is one read and one write: the stored answers are not read.
func TestPlainScanIsOneReadAndOneWrite(t *testing.T) {
	p := awaiting()
	st := &store{parcels: []*shipment.Parcel{p}}
	res, err := scans(st).Scan(context.Background(), courier,
		tracking.ScanRequest{Code: p.WaybillNo, Action: shipment.ActPickup, ScanID: "s-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.calls, []string{"parcel", "apply"}) {
		t.Fatalf("calls %v, want one read and one write", st.calls)
	}
	w := st.writes[0]
	if w.Outcome.To != shipment.InTransit || w.Parcel.Version != 3 || w.Req.Source != shipment.SourceScan || w.Ready != nil {
		t.Fatalf("write %+v", w)
	}
	if res.Items[0].Seq != 2 || res.Items[0].Status != shipment.InTransit || res.Repeat {
		t.Fatalf("answer %+v", res)
	}
}

// A request refused by its form reads nothing.
func TestBadScanReadsNothing(t *testing.T) {
	for name, c := range map[string]struct {
		req  tracking.ScanRequest
		code string
	}{
		"no scan id":     {tracking.ScanRequest{Code: "x", Action: shipment.ActPickup}, "scan.id_required"},
		"register":       {tracking.ScanRequest{Code: "x", Action: shipment.ActRegister, ScanID: "s"}, "action.unknown"},
		"schedule":       {tracking.ScanRequest{Code: "x", Action: shipment.ActPickup, ScanID: "s", Source: shipment.SourceSchedule}, "request.bad_query"},
		"slot on pickup": {tracking.ScanRequest{Code: awaiting().WaybillNo, Action: shipment.ActPickup, ScanID: "s", Slot: "A-01-1"}, "slot.not_expected"},
		"unknown site":   {tracking.ScanRequest{Code: awaiting().WaybillNo, Action: shipment.ActPickup, ScanID: "s", Site: "NOPE"}, "site.unknown"},
	} {
		st := &store{parcels: []*shipment.Parcel{awaiting()}}
		_, err := scans(st).Scan(context.Background(), courier, c.req)
		if apperr.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
		if len(st.calls) != 0 {
			t.Errorf("%s: calls %v", name, st.calls)
		}
	}
}

// A scan that lost the version check to the same scan is decided again on
// one more read, and answers as a repeat.
func TestLostRaceToTheSameScanIsARepeat(t *testing.T) {
	p := awaiting()
	moved := awaiting()
	moved.Status, moved.LastAction, moved.LastSite, moved.LastAt, moved.Version = shipment.InTransit, shipment.ActPickup, "D-SW", t0, 4
	st := &store{parcels: []*shipment.Parcel{p, moved},
		writeErr: apperr.New(apperr.Conflict, "parcel.conflict").Wrap(ErrLostRace)}
	res, err := scans(st).Scan(context.Background(), courier,
		tracking.ScanRequest{Code: p.WaybillNo, Action: shipment.ActPickup, ScanID: "s-2"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Repeat || !slices.Equal(st.calls, []string{"parcel", "apply", "parcel", "prior"}) {
		t.Fatalf("repeat %v, calls %v", res.Repeat, st.calls)
	}
}

// A clerk may not scan a parcel of another site; nothing is written.
func TestOtherSiteIsRefusedBeforeTheWrite(t *testing.T) {
	st := &store{parcels: []*shipment.Parcel{awaiting()}}
	clerk := shipment.Actor{ID: 3, Role: shipment.RoleClerk, Site: "D-GT"}
	_, err := scans(st).Scan(context.Background(), clerk,
		tracking.ScanRequest{Code: awaiting().WaybillNo, Action: shipment.ActCancel, ScanID: "s-3"})
	if apperr.CodeOf(err) != "parcel.other_site" || len(st.writes) != 0 {
		t.Fatalf("%v, writes %d", err, len(st.writes))
	}
}

// A bag scan is decided on the run the store locked.
func TestBagStep(t *testing.T) {
	staff := shipment.Actor{ID: 4, Role: shipment.RoleStaff, Site: "ED-HALL"}
	for name, c := range map[string]struct {
		a      shipment.Actor
		action shipment.Action
		run    Run
		step   BagStep
		code   string
	}{
		"pickup":            {courier, shipment.ActPickup, Run{"D-SW", "ED-HALL", "sealed"}, BagPickup, ""},
		"pickup again":      {courier, shipment.ActPickup, Run{"D-SW", "ED-HALL", "picked_up"}, BagRepeat, ""},
		"pickup arrived":    {courier, shipment.ActPickup, Run{"D-SW", "ED-HALL", "arrived"}, 0, "bag.state"},
		"receive":           {staff, shipment.ActReceive, Run{"D-SW", "ED-HALL", "picked_up"}, BagArrive, ""},
		"receive again":     {staff, shipment.ActReceive, Run{"D-SW", "ED-HALL", "closed"}, BagRepeat, ""},
		"receive sealed":    {staff, shipment.ActReceive, Run{"D-SW", "ED-HALL", "sealed"}, 0, "bag.not_picked_up"},
		"receive elsewhere": {staff, shipment.ActReceive, Run{"D-SW", "NG-HALL", "picked_up"}, 0, "scan.other_site"},
	} {
		step, err := bagStep(c.a, tracking.ScanRequest{Action: c.action}, c.run)
		if apperr.CodeOf(err) != c.code && !(c.code == "" && err == nil) {
			t.Errorf("%s: %v, want %q", name, err, c.code)
		}
		if err == nil && step != c.step {
			t.Errorf("%s: step %d, want %d", name, step, c.step)
		}
	}
}

// A bag scan with an action bags do not take reads nothing but its scan id.
func TestBagTakesPickupAndReceiveOnly(t *testing.T) {
	st := &store{}
	_, err := scans(st).Scan(context.Background(), courier,
		tracking.ScanRequest{Code: shipment.NewNumber(shipment.KindBag), Action: shipment.ActReport, ScanID: "s-4"})
	if apperr.CodeOf(err) != "bag.action_unsupported" || !slices.Equal(st.calls, []string{"prior"}) {
		t.Fatalf("%v, calls %v", err, st.calls)
	}
	if errors.Is(err, ErrScanIDTaken) {
		t.Fatal("not a scan id race")
	}
}
