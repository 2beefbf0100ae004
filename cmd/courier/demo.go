package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// A demo day for a first look: on the embedded default's first start (never
// on DATABASE_URL; COURIER_DEMO=0 turns it off) the service fills in a day
// of work through its own services, as people would have done it: a user
// for each role, the city hall's window with its shelf slots and
// certificates in every state there (one returning to its department but
// still on the shelf, one cancelled), a run with its bag on its way and
// half received, parcels waiting for the next run and for the hub,
// application materials going the other way.

// demoServices are what the demo day is made with.
type demoServices struct {
	createUser func(ctx context.Context, n shipment.NewUser) (shipment.User, error)
	register   func(ctx context.Context, a shipment.Actor, r shipment.Registration, src shipment.Source) (tracking.ParcelView, error)
	scan       func(ctx context.Context, a shipment.Actor, req tracking.ScanRequest) (tracking.ScanResult, error)
	legs       func(ctx context.Context) ([]shipment.Leg, error)
	runLegNow  func(ctx context.Context, a shipment.Actor, legID int64) (*tracking.RunView, error)
	setSlots   func(ctx context.Context, a shipment.Actor, site string, in shipment.HallSlots) (shipment.HallSlots, error)
	// carrier is the demo courier's company: the one that books the runs.
	carrier string
}

// demoPeople are the demo's citizens (made up), with an ID number each.
var demoPeople = []struct{ name, phone, id17 string }{
	{"张伟", "13904310001", "22010219800101001"}, {"李娜", "13904310002", "22010219810202002"},
	{"王芳", "13904310003", "22010219820303003"}, {"刘洋", "13904310004", "22010219830404004"},
	{"陈静", "13904310005", "22010219840505005"}, {"杨磊", "13904310006", "22010219850606006"},
	{"赵敏", "13904310007", "22010219860707007"}, {"黄强", "13904310008", "22010219870808008"},
	{"周杰", "13904310009", "22010219880909009"}, {"吴婷", "13904310010", "22010219891010010"},
	{"徐明", "13904310011", "22010219901111011"}, {"孙丽", "13904310012", "22010219911212012"},
	{"马超", "13904310013", "22010219920115013"}, {"朱红", "13904310014", "22010219930216014"},
	{"胡军", "13904310015", "22010219940317015"},
}

// residentID completes a made-up ID number with the check character the
// core accepts.
func residentID(first17 string) string {
	for _, c := range "0123456789X" {
		if shipment.ValidateResidentID(first17+string(c)) == nil {
			return first17 + string(c)
		}
	}
	return first17 + "0"
}

// seedDemo fills in the demo day and returns what to print: where to sign
// in, and the demo users' password.
func seedDemo(ctx context.Context, svc demoServices, publicURL string) (string, error) {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	password := "demo-" + hex.EncodeToString(b)
	actors := map[string]shipment.Actor{}
	for _, u := range []struct {
		name string
		role shipment.Role
		site string
	}{
		{"demo-clerk", shipment.RoleClerk, "D-SW"}, {"demo-staff", shipment.RoleStaff, "CC-WIN"},
		{"demo-lead", shipment.RoleHallLead, "CC-WIN"}, {"demo-courier", shipment.RoleCourier, ""},
		{"demo-hub", shipment.RoleStaff, "CC-HUB"}, {"demo-admin", shipment.RoleAdmin, ""},
	} {
		n := shipment.NewUser{Username: u.name, Password: password, Role: u.role, Site: u.site}
		if u.role == shipment.RoleCourier {
			n.Carrier = svc.carrier // works for the courier that books the runs
		}
		made, err := svc.createUser(ctx, n)
		if err != nil {
			return "", fmt.Errorf("demo user %s: %w", u.name, err)
		}
		actors[u.name] = shipment.Actor{ID: made.ID, Username: made.Username, Role: made.Role, Site: made.Site}
	}
	n, who := 0, 0 // parcels registered; the next holder
	register := func(by string, kind shipment.Kind, origin, dest string) (string, string, error) {
		p := demoPeople[who%len(demoPeople)]
		n++
		who++
		r := shipment.Registration{Kind: kind, OriginSite: origin,
			Applicant: shipment.Applicant{Type: shipment.Natural, Name: p.name, Phone: p.phone,
				IDType: shipment.IDResident, IDNumber: residentID(p.id17)},
			ApplicationNo: fmt.Sprintf("DEMO-%04d", n)}
		if kind == shipment.KindCertificate {
			r.Destination = shipment.Destination{Kind: shipment.DestHall, Site: dest}
			r.Certificate = &shipment.Certificate{Type: "business_licence", Number: fmt.Sprintf("DEMO-LIC-%04d", n)}
		} else {
			r.Destination = shipment.Destination{Kind: shipment.DestDepartment, Site: dest}
		}
		v, err := svc.register(ctx, actors[by], r, shipment.SourceWeb)
		return v.WaybillNo, r.Applicant.IDNumber, err
	}
	seq := 0
	scan := func(by, code string, action shipment.Action, mod func(*tracking.ScanRequest)) error {
		seq++
		req := tracking.ScanRequest{Code: code, Action: action, ScanID: fmt.Sprintf("demo-%d", seq), Source: shipment.SourceWeb}
		if mod != nil {
			mod(&req)
		}
		_, err := svc.scan(ctx, actors[by], req)
		if err != nil {
			return fmt.Errorf("demo %s of %s: %w", action, code, err)
		}
		return nil
	}

	// Ten certificates for the city hall's window, booked into a run.
	var nos, ids []string
	for i := range 10 {
		if i == 3 {
			who-- // the holder of the third has the fourth too: the counter lists both
		}
		no, id, err := register("demo-clerk", shipment.KindCertificate, "D-SW", "CC-WIN")
		if err != nil {
			return "", fmt.Errorf("demo registration: %w", err)
		}
		nos, ids = append(nos, no), append(ids, id)
	}
	legs, err := svc.legs(ctx)
	if err != nil {
		return "", err
	}
	var legID int64
	for _, l := range legs {
		if l.From == "D-SW" && l.To == "CC-WIN" {
			legID = l.ID
		}
	}
	if legID == 0 {
		return "", fmt.Errorf("demo: no leg D-SW → CC-WIN")
	}
	run, err := svc.runLegNow(ctx, actors["demo-admin"], legID)
	if err != nil || run == nil {
		return "", fmt.Errorf("demo run: %v", err)
	}
	// The courier takes the bag; the hall receives it and seven of its
	// parcels (three are still to be scanned on its check list).
	if err := scan("demo-courier", run.BagNo, shipment.ActPickup, nil); err != nil {
		return "", err
	}
	if err := scan("demo-staff", run.BagNo, shipment.ActReceive, nil); err != nil {
		return "", err
	}
	for _, no := range nos[:7] {
		if err := scan("demo-staff", no, shipment.ActReceive, nil); err != nil {
			return "", err
		}
	}
	// The window's shelf: slots A-01-1 to A-03-4, each with its label to
	// print on the hall's page. Five parcels on it; one of them collected,
	// one found damaged, one going back to its department (still on the
	// shelf, to pull).
	slots := shipment.HallSlots{SlotRequired: true}
	for shelf := 1; shelf <= 3; shelf++ {
		for pos := 1; pos <= 4; pos++ {
			slots.Slots = append(slots.Slots, fmt.Sprintf("A-%02d-%d", shelf, pos))
		}
	}
	if _, err := svc.setSlots(ctx, actors["demo-admin"], "CC-WIN", slots); err != nil {
		return "", fmt.Errorf("demo slots: %w", err)
	}
	for i, no := range nos[:5] {
		slot := slots.Slots[i]
		if err := scan("demo-staff", no, shipment.ActShelve, func(r *tracking.ScanRequest) { r.Slot = slot }); err != nil {
			return "", err
		}
	}
	if err := scan("demo-staff", nos[0], shipment.ActCollect, func(r *tracking.ScanRequest) { r.IDNumber = ids[0] }); err != nil {
		return "", err
	}
	if err := scan("demo-staff", nos[1], shipment.ActReport, func(r *tracking.ScanRequest) { r.Reason = "damaged" }); err != nil {
		return "", err
	}
	if err := scan("demo-lead", nos[4], shipment.ActReturn, func(r *tracking.ScanRequest) { r.Reason = "uncollected" }); err != nil {
		return "", err
	}
	// Waiting for the next run, and for the hub on the way to a district.
	for range 2 {
		if _, _, err := register("demo-clerk", shipment.KindCertificate, "D-SW", "CC-WIN"); err != nil {
			return "", err
		}
	}
	for range 2 {
		if _, _, err := register("demo-clerk", shipment.KindCertificate, "D-SW", "ED-HALL"); err != nil {
			return "", err
		}
	}
	// One the applicant withdrew before its pickup.
	withdrawn, _, err := register("demo-clerk", shipment.KindCertificate, "D-SW", "CC-WIN")
	if err != nil {
		return "", err
	}
	if err := scan("demo-clerk", withdrawn, shipment.ActCancel, func(r *tracking.ScanRequest) { r.Reason = "applicant_withdrew" }); err != nil {
		return "", err
	}
	// Application materials from the hall to the department.
	if _, _, err := register("demo-staff", shipment.KindMaterials, "CC-WIN", "D-SW"); err != nil {
		return "", err
	}
	return fmt.Sprintf("courier: demo day filled in (COURIER_DEMO=0 turns it off): sign in at %s/login as demo-staff (window), "+
		"demo-lead (hall lead), demo-clerk (department), demo-courier, demo-hub or demo-admin, password %s (shown once)\n",
		publicURL, password), nil
}
