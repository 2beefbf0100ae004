package service

import (
	"context"
	"errors"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// CourierStore keeps what the contracted courier tells of its routes and
// finds the bookings it tells of.
type CourierStore interface {
	// SaveRouteNodes keeps the nodes not kept before and returns those.
	SaveRouteNodes(ctx context.Context, nodes []tracking.RouteNode) ([]tracking.RouteNode, error)
	// BookingOf finds the booking a courier's node belongs to: by the
	// courier's waybill number, or by our order id (a run's number) when
	// the push came before the booking's answer. Errors: run.not_found.
	BookingOf(ctx context.Context, carrier, waybillNo, orderID string) (tracking.BookingState, error)
	// QuietBookings lists booked runs on their way whose courier has told
	// nothing since quietSince.
	QuietBookings(ctx context.Context, quietSince time.Time, limit int) ([]tracking.BookingState, error)
}

// AssignmentStore keeps who carries each booking.
type AssignmentStore interface {
	// CourierBookings lists the open bookings assigned to courierID and,
	// when carrier is set, those of that carrier assigned to nobody.
	CourierBookings(ctx context.Context, courierID int64, carrier string) ([]tracking.CourierBooking, error)
	// AssignBooking locks a run's booking, asks check (with the courier's
	// account), and assigns it. Errors: run.not_found, user.not_found.
	AssignBooking(ctx context.Context, code shipment.Code, username string, by shipment.Actor, now time.Time,
		check func(a tracking.Assignment, courier shipment.User) error) error
	// HandOverRun locks a run, asks check, and records its bag's handover
	// at the destination. Errors: run.not_found.
	HandOverRun(ctx context.Context, code shipment.Code, by shipment.Actor, now time.Time, check func(a tracking.Assignment) error) error
}

// Sites finds a site.
type Sites interface {
	Site(code string) (shipment.Site, bool)
}

// Scanner takes a scan as the scan station's does (Parcels.Scan).
type Scanner interface {
	Scan(ctx context.Context, a shipment.Actor, req tracking.ScanRequest) (tracking.ScanResult, error)
}

// Couriers takes in what the contracted courier says: its pushes and the
// answers of route queries, kept before the push is answered, and moves
// the runs they tell of, never backwards.
type Couriers struct {
	Store CourierStore
	// Assignments keeps who carries each booking; Sites finds their stops.
	Assignments AssignmentStore
	Sites       Sites
	Reads       ReadRecorder
	Scans       Scanner
	// Carriers query routes, by name (the reconciliation).
	Carriers map[string]tracking.Carrier
	Now      func() time.Time
}

// MaxNodes bounds one push or query answer's nodes.
const MaxNodes = 100

// NodeReceipt is what a push or a query's answer did.
type NodeReceipt struct {
	Fresh   int // nodes kept now (not kept before)
	Unknown int // nodes of no booking of ours: not kept, nothing changed
	Moved   int // runs moved on by them
}

// ReceiveNodes keeps a courier's route nodes, each once however often it
// comes, and moves the runs they tell of: a run its courier collected
// (a node at or past collected) is picked up, as the courier's scan of
// the bag would; a run picked up, cancelled or further on already is left
// as it is (the node is kept, the run's timeline shows it). A node signed
// for at a hall changes nothing: the hall's receive completes the leg.
// Nodes of waybills that are no booking of ours are not kept.
//
// Errors: courier.nodes_invalid (invalid): no nodes, too many, or a node
// without its carrier, order, waybill, time or code, or of an unknown way
// in or stage.
func (c *Couriers) ReceiveNodes(ctx context.Context, nodes []tracking.RouteNode) (NodeReceipt, error) {
	var r NodeReceipt
	if len(nodes) == 0 || len(nodes) > MaxNodes {
		return r, apperr.New(apperr.Invalid, "courier.nodes_invalid").With("nodes", len(nodes))
	}
	for i, n := range nodes {
		if n.Carrier == "" || n.OrderID == "" || n.WaybillNo == "" || n.At.IsZero() || n.OpCode == "" ||
			(n.Via != "push" && n.Via != "query") || !validStage(n.Stage) {
			return r, apperr.New(apperr.Invalid, "courier.nodes_invalid").With("node", i)
		}
	}
	type key struct{ carrier, waybill, order string }
	bookings := map[key]*tracking.BookingState{}
	var keep []tracking.RouteNode
	var order []key
	for _, n := range nodes {
		k := key{n.Carrier, n.WaybillNo, n.OrderID}
		b, seen := bookings[k]
		if !seen {
			st, err := c.Store.BookingOf(ctx, n.Carrier, n.WaybillNo, n.OrderID)
			switch {
			case apperr.CodeOf(err) == "run.not_found":
			case err != nil:
				return r, err
			default:
				b = &st
			}
			bookings[k] = b
			order = append(order, k)
		}
		if b == nil {
			r.Unknown++
			continue
		}
		keep = append(keep, n)
	}
	if len(keep) == 0 {
		return r, nil
	}
	fresh, err := c.Store.SaveRouteNodes(ctx, keep)
	if err != nil {
		return r, err
	}
	r.Fresh = len(fresh)
	// Every node given counts, not only the fresh ones: a push repeated
	// after a failure to move its run moves it now.
	for _, k := range order {
		b := bookings[k]
		if b == nil {
			continue
		}
		if b.ParcelID != 0 {
			var mine []tracking.RouteNode
			for _, n := range keep {
				if n.Carrier == k.carrier && n.WaybillNo == k.waybill && n.OrderID == k.order {
					mine = append(mine, n)
				}
			}
			moved, err := c.moveExpress(ctx, *b, mine)
			if err != nil {
				return r, err
			}
			if moved {
				r.Moved++
			}
			continue
		}
		var at time.Time
		for _, n := range keep {
			if n.Carrier == k.carrier && n.WaybillNo == k.waybill && n.OrderID == k.order && collected(n.Stage) && (at.IsZero() || n.At.Before(at)) {
				at = n.At
			}
		}
		if at.IsZero() {
			continue
		}
		moved, err := c.pickUp(ctx, *b, at)
		if err != nil {
			return r, err
		}
		if moved {
			r.Moved++
		}
	}
	return r, nil
}

// collected: the node tells of a bag in the courier's hands or beyond.
func collected(s tracking.CourierStage) bool {
	switch s {
	case tracking.StageCollected, tracking.StageMoving, tracking.StageOutForDelivery, tracking.StageSigned:
		return true
	}
	return false
}

// pickUp picks up a sealed run's bag as its courier's scan would, at the
// node's time; any other run is left alone (false).
func (c *Couriers) pickUp(ctx context.Context, b tracking.BookingState, at time.Time) (bool, error) {
	if b.RunStatus != "sealed" {
		return false, nil
	}
	a := shipment.Actor{Username: b.Carrier, Role: shipment.RoleCourier}
	req := tracking.ScanRequest{Code: b.BagNo, Action: shipment.ActPickup, Site: b.FromSite, Source: shipment.SourceCourier,
		ScanID: "courier-" + b.Carrier + "-" + b.RunNo + "-pickup", Device: b.Carrier, ScannedAt: &at}
	res, err := c.Scans.Scan(ctx, a, req)
	var e *apperr.Error
	if errors.As(err, &e) && e.Kind == apperr.Conflict {
		return false, nil // moved meanwhile (a courier's own scan, a cancel): the node is kept, nothing changes
	}
	if err != nil {
		return false, err
	}
	return !res.Repeat, nil
}

// MaxQuietQueries bounds the routes the reconciliation queries in one run.
const MaxQuietQueries = 200

// SyncCouriers is the reconciliation: the routes of booked runs whose
// courier went quiet (nothing told for quiet) are queried and taken in as
// a push's. A query that fails is counted and tried again on the next run.
func (c *Couriers) SyncCouriers(ctx context.Context, quiet time.Duration) (tracking.JobReport, error) {
	rep := tracking.JobReport{Detail: map[string]any{}}
	list, err := c.Store.QuietBookings(ctx, clock(c.Now).Add(-quiet), MaxQuietQueries)
	if err != nil {
		return rep, err
	}
	queried, failed, moved := 0, 0, 0
	for _, b := range list {
		carrier := c.Carriers[b.Carrier]
		if carrier == nil {
			continue
		}
		queried++
		nodes, err := carrier.Routes(ctx, b.Booking)
		if err != nil {
			failed++
			continue
		}
		for len(nodes) > 0 {
			n := min(len(nodes), MaxNodes)
			r, err := c.ReceiveNodes(ctx, nodes[:n])
			if err != nil {
				return rep, err
			}
			rep.Affected += r.Fresh
			moved += r.Moved
			nodes = nodes[n:]
		}
	}
	rep.Detail["queried"], rep.Detail["failed"], rep.Detail["moved"] = queried, failed, moved
	return rep, nil
}

func validStage(s tracking.CourierStage) bool {
	switch s {
	case tracking.StageUnknown, tracking.StageCollected, tracking.StageMoving, tracking.StageOutForDelivery,
		tracking.StageSigned, tracking.StageFailed, tracking.StageReturned:
		return true
	}
	return false
}

// Bookings lists a courier's open bookings: those assigned to them and those
// of their carrier no one has taken, by slot, each with where to collect
// and where to hand over (site names, addresses and telephones).
//
// Errors: action.role_forbidden (forbidden: not a courier).
func (c *Couriers) Bookings(ctx context.Context, a shipment.Actor) ([]tracking.CourierBooking, error) {
	if a.Role != shipment.RoleCourier {
		return nil, apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", "courier_bookings")
	}
	list, err := c.Assignments.CourierBookings(ctx, a.ID, a.Carrier)
	if err != nil {
		return nil, err
	}
	var shown []string
	for i := range list {
		b := &list[i]
		b.From = c.stop(b.FromSite)
		if b.Recipient == nil {
			b.To = c.stop(b.ToSite)
			continue
		}
		// An express parcel: its recipient in full to its courier (a read
		// of personal data, recorded), masked to the others of the carrier.
		if b.Mine {
			shown = append(shown, b.WaybillNo)
		} else {
			b.Recipient.Name, b.Recipient.Phone = shipment.MaskName(b.Recipient.Name), shipment.MaskPhoneScreen(b.Recipient.Phone)
			b.Recipient.Address = maskAddress(b.Recipient.Address)
		}
		b.To = tracking.CourierStop{Code: "address", Name: b.Recipient.Name, Address: b.Recipient.Address, Phone: b.Recipient.Phone}
	}
	if len(shown) > 0 && c.Reads != nil {
		if err := c.Reads.RecordRead(ctx, PersonalRead{Actor: a, At: clock(c.Now), Purpose: "courier_delivery",
			MatchedBy: "waybill", Waybills: shown}); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// maskAddress keeps an address's first six characters (the province and
// city, as a rule).
func maskAddress(s string) string {
	r := []rune(s)
	if len(r) <= 6 {
		return s
	}
	return string(r[:6]) + "****"
}

func (c *Couriers) stop(code string) tracking.CourierStop {
	s, _ := c.Sites.Site(code)
	return tracking.CourierStop{Code: code, Name: s.NameZH, Address: s.Province + s.City + s.District + s.Street + s.Detail, Phone: s.Phone}
}

// open: a booking a courier may still take or be given: booked, its run
// not yet arrived.
func open(a tracking.Assignment) error {
	if a.Status != tracking.BookingBooked || (a.RunStatus != "sealed" && a.RunStatus != "picked_up") {
		return apperr.New(apperr.Conflict, "booking.not_open").With("booking_status", a.Status).With("run_status", a.RunStatus)
	}
	return nil
}

// Take gives a courier an open booking of their carrier no one has taken
// (taking one's own again changes nothing).
//
// Errors: code.* and run.not_run (invalid); run.not_found; action.role_forbidden,
// booking.other_carrier (forbidden); booking.not_open, booking.taken (conflict).
func (c *Couriers) Take(ctx context.Context, a shipment.Actor, no string) error {
	if a.Role != shipment.RoleCourier {
		return apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", "take")
	}
	code, err := shipment.ParseCode(no) // a run, its bag, or an express parcel
	if err != nil {
		return err
	}
	return c.Assignments.AssignBooking(ctx, code, a.Username, a, clock(c.Now), func(b tracking.Assignment, _ shipment.User) error {
		if b.CourierID == a.ID {
			return nil
		}
		if err := open(b); err != nil {
			return err
		}
		if a.Carrier == "" || b.Carrier != a.Carrier {
			return apperr.New(apperr.Forbidden, "booking.other_carrier").With("carrier", b.Carrier)
		}
		if b.CourierID != 0 {
			return apperr.New(apperr.Conflict, "booking.taken")
		}
		return nil
	})
}

// Assign gives an open booking to a courier (an administrator's choice):
// one of the booking's carrier, or the city's own runner (no carrier).
//
// Errors: code.* and run.not_run, user.not_courier (invalid); run.not_found,
// user.not_found; action.role_forbidden (forbidden); booking.not_open,
// booking.other_carrier (conflict: the courier works for another carrier).
func (c *Couriers) Assign(ctx context.Context, a shipment.Actor, no, username string) error {
	if a.Role != shipment.RoleAdmin {
		return apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", "assign")
	}
	code, err := shipment.ParseCode(no)
	if err != nil {
		return err
	}
	return c.Assignments.AssignBooking(ctx, code, shipment.NormalUsername(username), a, clock(c.Now),
		func(b tracking.Assignment, u shipment.User) error {
			if u.Role != shipment.RoleCourier || u.Disabled {
				return apperr.New(apperr.Invalid, "user.not_courier").OnField("username").With("username", u.Username)
			}
			if err := open(b); err != nil {
				return err
			}
			if u.Carrier != "" && u.Carrier != b.Carrier {
				return apperr.New(apperr.Conflict, "booking.other_carrier").With("carrier", b.Carrier)
			}
			return nil
		})
}

// HandOver records that the courier handed a run's bag over at its
// destination (the hall's receive of the bag completes the leg): the
// courier it is assigned to, or an administrator; once picked up; a second
// handover changes nothing.
//
// Errors: code.* and run.not_run (invalid); run.not_found; action.role_forbidden,
// booking.not_yours (forbidden); run.not_picked_up (conflict).
func (c *Couriers) HandOver(ctx context.Context, a shipment.Actor, no string) error {
	if a.Role != shipment.RoleCourier && a.Role != shipment.RoleAdmin {
		return apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", "handover")
	}
	code, err := runCode(no)
	if err != nil {
		return err
	}
	return c.Assignments.HandOverRun(ctx, code, a, clock(c.Now), func(b tracking.Assignment) error {
		if a.Role == shipment.RoleCourier && b.CourierID != a.ID {
			return apperr.New(apperr.Forbidden, "booking.not_yours")
		}
		if b.HandedOver {
			return nil
		}
		if b.RunStatus != "picked_up" {
			return apperr.New(apperr.Conflict, "run.not_picked_up").With("run_status", b.RunStatus)
		}
		return nil
	})
}

// expressRank orders the stages an express parcel moves through.
func expressRank(s tracking.CourierStage) int {
	switch s {
	case tracking.StageCollected, tracking.StageMoving:
		return 1
	case tracking.StageOutForDelivery:
		return 2
	case tracking.StageSigned:
		return 3
	}
	return 0
}

// moveExpress moves an express parcel as far as its courier's nodes tell,
// never backwards, each step the courier's action of the action table:
// collected (or moving) picks it up at its origin, out for delivery
// dispatches it, signed for delivers it (only then), and a failed attempt
// with no signature after it is a failure for staff to resolve. A step
// already taken or passed is left (the node is kept); a parcel the table
// does not let move (cancelled, in exception) stays as it is.
func (c *Couriers) moveExpress(ctx context.Context, b tracking.BookingState, nodes []tracking.RouteNode) (bool, error) {
	rank, failed := 0, time.Time{}
	var signedAt time.Time
	for _, n := range nodes {
		rank = max(rank, expressRank(n.Stage))
		if n.Stage == tracking.StageFailed && n.At.After(failed) {
			failed = n.At
		}
		if n.Stage == tracking.StageSigned && n.At.After(signedAt) {
			signedAt = n.At
		}
	}
	status := b.ParcelStatus
	var steps []shipment.Action
	if rank >= 1 && (status == shipment.Registered || status == shipment.AwaitingPickup) {
		steps, status = append(steps, shipment.ActPickup), shipment.InTransit
	}
	if rank >= 2 && (status == shipment.InTransit || status == shipment.Arrived) {
		steps, status = append(steps, shipment.ActDispatch), shipment.OutForDelivery
	}
	if rank >= 3 && (status == shipment.InTransit || status == shipment.Arrived || status == shipment.OutForDelivery) {
		if status != shipment.OutForDelivery {
			steps = append(steps, shipment.ActDispatch)
		}
		steps = append(steps, shipment.ActDeliver)
	} else if !failed.IsZero() && failed.After(signedAt) && status == shipment.OutForDelivery {
		steps = append(steps, shipment.ActFail)
	}
	moved := false
	a := shipment.Actor{Username: b.Carrier, Role: shipment.RoleCourier}
	for _, act := range steps {
		req := tracking.ScanRequest{Code: b.WaybillNo, Action: act, Source: shipment.SourceCourier, Device: b.Carrier,
			ScanID: "courier-" + b.Carrier + "-" + b.WaybillNo + "-" + string(act)}
		if act == shipment.ActPickup {
			req.Site = b.FromSite
		}
		if act == shipment.ActFail {
			req.Reason, req.ScanID = "delivery_failed", req.ScanID+"-"+failed.UTC().Format("20060102T150405")
		}
		res, err := c.Scans.Scan(ctx, a, req)
		var e *apperr.Error
		if errors.As(err, &e) && (e.Kind == apperr.Conflict || e.Kind == apperr.Forbidden) {
			return moved, nil // the table does not let it move so: the nodes are kept, nothing more changes
		}
		if err != nil {
			return moved, err
		}
		moved = moved || !res.Repeat
	}
	return moved, nil
}
