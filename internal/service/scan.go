package service

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// MaxCodeFailures is how many wrong collection codes a parcel takes in a
// throttle window before codes are refused for it (the holder's ID still
// works): six digits must not be guessable at the counter.
const MaxCodeFailures = 5

// DefaultRetentionDays is how long a hall holds a parcel whose certificate
// type says nothing.
const DefaultRetentionDays = 30

var scanIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$`)

// ScanStore is what a scan needs from storage: the reads, and one atomic
// write per scan.
type ScanStore interface {
	// ParcelByNumber reads a parcel. Errors: parcel.not_found.
	ParcelByNumber(ctx context.Context, number string) (*shipment.Parcel, error)
	// PriorScan returns the stored answer of a scan id and the fingerprint
	// of the scan that gave it; found is false for a new scan id.
	PriorScan(ctx context.Context, scanID string) (answer tracking.ScanResult, fingerprint []byte, found bool, err error)
	// Holder returns what a collect is checked against: the hash of the
	// parcel's collection code and the holder's ID type and ID hash.
	Holder(ctx context.Context, parcelID int64) (Holder, error)
	// ApplyScan makes a decided scan durable, atomically: the parcel's new
	// state under its version check, the event, the scan's answer and the
	// write's side effects. It returns the event's seq. Errors:
	// parcel.conflict (wrapping ErrLostRace when the version check failed),
	// slot.required, slot.unknown.
	ApplyScan(ctx context.Context, w ScanWrite) (seq int, err error)
	// ScanBag locks the run a bag or run number names, asks step what the
	// scan does to it, and does that in the same transaction; for a scan
	// that changes something it stores the answer too. Errors: run.not_found,
	// those of step, and ErrScanIDTaken (wrapped) when the scan id was
	// stored meanwhile.
	ScanBag(ctx context.Context, w BagWrite, step func(Run) (BagStep, error)) (tracking.ScanResult, error)
	// LastChange reads the parcel's latest state change, as a correction
	// undoes it. Errors: correct.nothing when it has none but its
	// registration.
	LastChange(ctx context.Context, parcelID int64) (shipment.Change, error)
	// ApplyCorrect makes a decided correction durable, atomically: the
	// parcel's restored state under its version check, the event, the
	// scan's answer, and the side effects of what it undoes (a shelve's
	// queued message dropped, a receive's check-list tick taken back). It
	// returns the event's seq. Errors: parcel.conflict (wrapping
	// ErrLostRace when the version check failed).
	ApplyCorrect(ctx context.Context, w CorrectWrite) (seq int, err error)
}

// CorrectWrite is one decided correction.
type CorrectWrite struct {
	Parcel      *shipment.Parcel
	Restore     shipment.Restore
	Actor       shipment.Actor
	Req         tracking.ScanRequest
	Now         time.Time
	Fingerprint []byte
	Answer      tracking.ScanResult
	Detail      map[string]any
}

// Holder is what a collect is checked against.
type Holder struct {
	CodeHash []byte
	IDType   shipment.IDType
	IDHash   []byte
	IDTail   string
	// DeliveryHash is the keyed hash of the delivery code of an express
	// parcel out for delivery (nil: none).
	DeliveryHash []byte
}

// ScanWrite is one decided parcel scan.
type ScanWrite struct {
	Parcel      *shipment.Parcel
	Outcome     shipment.Outcome
	Actor       shipment.Actor
	Req         tracking.ScanRequest
	Now         time.Time
	Fingerprint []byte
	// Answer is the scan's answer, stored with the seq of its event.
	Answer tracking.ScanResult
	// Detail is what the event records beyond its columns.
	Detail map[string]any
	// CheckOff: a receive ticks the parcel off its bag's check list, or
	// notes it as extra on the lists open at the site.
	CheckOff bool
	// Slot: a shelve or reslot puts the parcel in its slot once the store,
	// having read what the hall keeps (under lock), heard from Slot that
	// the slot may be used (shipment.CheckShelfSlot). Nil: no slot step.
	Slot func(required, known bool) error
	// Ready: a shelve draws a collection code free at the hall, holds the
	// parcel until then and tells the holder (the code added to the
	// message's params as "code").
	Ready *Ready
	// Proxy is who collected for the holder, recorded with the event.
	Proxy *tracking.Proxy
	// TellOrigin, when set, is the template of a notice to the staff of the
	// parcel's origin, written with the event.
	TellOrigin string
	// Dispatch: an express parcel goes out for delivery; a delivery code is
	// drawn, its hash kept, and the recipient told (the code added to the
	// message's params as "code").
	Dispatch *Message
	// Delivered is our courier's proof of a delivery, kept with the event.
	Delivered *tracking.DeliveryProof
	// BookExpress: a parcel its recipient redirected reached its hall; its
	// express booking is queued with the receive.
	BookExpress bool
}

// RedirectWrite is the recipient's choice of express to the door.
type RedirectWrite struct {
	ParcelID int64
	Code     string
	Address  shipment.Address
	Now      time.Time
}

// Ready is what shelving a parcel sets.
type Ready struct {
	HoldUntil time.Time
	Message   Message
}

// BagWrite is a scan of a bag or run number.
type BagWrite struct {
	Code        shipment.Code
	Actor       shipment.Actor
	Req         tracking.ScanRequest
	Now         time.Time
	Fingerprint []byte
	// Answer has the scan's identity; the store adds the items.
	Answer tracking.ScanResult
}

// Run is a consolidation run as a bag scan decides on it.
type Run struct {
	FromSite, ToSite string
	Status           string
}

// BagStep is what a bag scan does.
type BagStep int

// The steps of a bag scan.
const (
	BagRepeat BagStep = iota // nothing: answer with the bag's parcels as they are
	BagPickup                // the courier takes the bag: its parcels move, the run is picked up
	BagArrive                // the bag arrives: the run is arrived, its check list opens
	BagList                  // nothing changes, the bag's parcels are listed (a new scan)
)

// Scan applies one scan or action to the parcel or bag its code names.
//
// A repeat (the same scan id with the same body, or the same action at the
// same site within a minute) changes nothing and answers with repeat=true,
// also when it raced the scan it repeats and lost the version check; the
// same scan id with a different body is refused. Two different actions at
// once: one wins, the other gets parcel.conflict.
//
// Errors: scan.id_required, scan.id_reused, scan.action_required,
// action.unknown, code.*, reason.*, collect.*, slot.* (invalid); parcel.not_found
// (not found); action.role_forbidden, scan.other_site, parcel.other_site,
// cancel.not_owner (forbidden); collect.too_many (too many); state.*,
// scan.wrong_site, parcel.conflict and the other conflicts of
// shipment.Decide (conflict).
func (s *Parcels) Scan(ctx context.Context, a shipment.Actor, req tracking.ScanRequest) (tracking.ScanResult, error) {
	code, req, err := s.validate(req)
	if err != nil {
		return tracking.ScanResult{}, err
	}
	fingerprint := s.fingerprint(a, code.Number, req)
	if code.Kind != shipment.KindParcel {
		return s.scanBag(ctx, a, req, code, fingerprint)
	}
	// Each try of a collection code counts before it is tried (so guesses
	// sent at once cannot pass the limit together) and is taken back when
	// the code was not wrong; without the count, no code is tried.
	counted := req.Action == shipment.ActCollect && req.CollectionCode != "" && s.Throttle != nil
	tries := 0
	if counted {
		n, err := s.Throttle.Fail(ctx, "code", code.Number)
		if err != nil {
			return tracking.ScanResult{}, err
		}
		if n > MaxCodeFailures {
			return tracking.ScanResult{}, apperr.New(apperr.TooMany, "collect.too_many").OnField("collection_code")
		}
		tries = n
	}
	res, err := s.apply(ctx, a, req, code.Number, fingerprint, nil)
	if ae := apperr.As(err); counted && ae != nil && ae.Code == "collect.code_wrong" {
		// Say how many tries remain (none: the next goes by the ID number).
		if left := MaxCodeFailures - tries; left > 0 {
			err = ae.With("remaining", left)
		} else {
			err = ae.With("exhausted", true)
		}
	} else if counted {
		_ = s.Throttle.Forgive(ctx, "code", code.Number)
	}
	if err != nil || res.Repeat {
		// A reused scan id is looked up only when the scan fails or
		// changes nothing, since that is when it matters.
		if r, ok, perr := s.prior(ctx, req.ScanID, fingerprint); ok || perr != nil {
			if perr != nil {
				return tracking.ScanResult{}, perr
			}
			return r, nil
		}
	}
	if err != nil {
		return tracking.ScanResult{}, err
	}
	return res, nil
}

// validate checks a scan request before anything is read, and returns the
// code it names and the request as it is applied.
func (s *Parcels) validate(req tracking.ScanRequest) (shipment.Code, tracking.ScanRequest, error) {
	req.ScanID = strings.TrimSpace(req.ScanID)
	if req.ScanID == "" {
		return shipment.Code{}, req, apperr.New(apperr.Invalid, "scan.id_required").OnField("scan_id")
	}
	if !scanIDRe.MatchString(req.ScanID) {
		return shipment.Code{}, req, apperr.New(apperr.Invalid, "request.bad_query").OnField("scan_id").With("field", "scan_id")
	}
	if req.Action == "" {
		return shipment.Code{}, req, apperr.New(apperr.Invalid, "scan.action_required").OnField("action")
	}
	if err := shipment.CheckAction(req.Action); err != nil {
		return shipment.Code{}, req, withField(err, "action")
	}
	if req.Source == "" {
		req.Source = shipment.SourceScan
	}
	if !req.Source.Valid() || req.Source == shipment.SourceSchedule {
		return shipment.Code{}, req, apperr.New(apperr.Invalid, "request.bad_query").OnField("source").With("field", "source")
	}
	code, err := shipment.ParseCode(req.Code)
	if err != nil {
		return code, req, withField(err, "code")
	}
	if code.Kind == shipment.KindSlot {
		return code, req, apperr.New(apperr.Invalid, "scan.slot_in_code").OnField("code").With("slot", code.Slot)
	}
	if strings.TrimSpace(req.Slot) == "" {
		req.Slot = ""
	} else if !req.Action.TakesSlot() {
		return code, req, apperr.New(apperr.Invalid, "slot.not_expected").OnField("slot").With("action", string(req.Action))
	} else if req.Slot, err = shipment.ParseSlot(req.Slot); err != nil {
		return code, req, err
	}
	req.Site = strings.TrimSpace(req.Site)
	if req.Site != "" {
		if _, ok := s.Ref.Site(req.Site); !ok {
			return code, req, apperr.New(apperr.Invalid, "site.unknown").OnField("site").With("site", req.Site)
		}
	}
	if req.ScannedAt != nil {
		// Offline scans arrive late, but not from another month or the future.
		now := s.now()
		if req.ScannedAt.Before(now.Add(-30*24*time.Hour)) || req.ScannedAt.After(now.Add(10*time.Minute)) {
			return code, req, apperr.New(apperr.Invalid, "scan.time_invalid").OnField("scanned_at")
		}
	}
	if len(req.Device) > 100 {
		return code, req, apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("device").With("field", "device")
	}
	return code, req, nil
}

// fingerprint identifies a scan's body by a keyed hash (tracking.ScanBody).
func (s *Parcels) fingerprint(a shipment.Actor, number string, req tracking.ScanRequest) []byte {
	return s.Keys.Hash("scan", string(tracking.ScanBody(a.ID, number, req)))
}

// prior answers a scan id seen before: the stored answer marked as a
// repeat, or scan.id_reused when the body differs.
func (s *Parcels) prior(ctx context.Context, scanID string, fingerprint []byte) (tracking.ScanResult, bool, error) {
	res, hash, found, err := s.Store.PriorScan(ctx, scanID)
	if err != nil || !found {
		return tracking.ScanResult{}, false, err
	}
	if !bytes.Equal(hash, fingerprint) {
		return tracking.ScanResult{}, true, apperr.New(apperr.Invalid, "scan.id_reused").OnField("scan_id").With("scan_id", scanID)
	}
	res.Repeat = true
	for i := range res.Items {
		res.Items[i].Repeat = true
	}
	return res, true, nil
}

// apply applies one scan to the parcel: one read, then one write (a
// collect reads what it is checked against too). When another scan changed
// the parcel between the read and the write, the scan is decided again on
// the parcel as it now is: if that makes it a repeat (the same action at
// the same site, within the window), it answers as one; otherwise it stays
// parcel.conflict. Only the losing scan pays the extra read.
func (s *Parcels) apply(ctx context.Context, a shipment.Actor, req tracking.ScanRequest, number string,
	fingerprint []byte, also func(*ScanWrite)) (tracking.ScanResult, error) {
	res, err := s.applyOnce(ctx, a, req, number, fingerprint, also)
	if !errors.Is(err, ErrLostRace) {
		return res, err
	}
	p, rerr := s.Store.ParcelByNumber(ctx, number)
	if rerr != nil {
		return res, err
	}
	now := s.now()
	cmd := s.command(ctx, a, req, now)
	if req.Action == shipment.ActCorrect {
		// A correction's repeat is decided before what it undoes is looked at.
		if r, derr := shipment.DecideCorrect(p, shipment.Change{}, cmd, req.Corrects); derr == nil && r.Repeat {
			return tracking.RepeatAnswer(p, r.Outcome, req, number, now), nil
		}
		return res, err
	}
	if o, derr := shipment.Decide(p, cmd); derr == nil && o.Repeat {
		return tracking.RepeatAnswer(p, o, req, number, now), nil
	}
	return res, err
}

// command is the scan as shipment.Decide takes it.
func (s *Parcels) command(ctx context.Context, a shipment.Actor, req tracking.ScanRequest, now time.Time) shipment.Command {
	cmd := shipment.Command{Action: req.Action, Site: req.Site, Actor: a, Now: now, Reason: req.Reason,
		Resolution: req.Resolution, Slot: req.Slot}
	if s.Routes != nil {
		cmd.Route = func(from, to string) ([]string, error) { return s.Routes.Path(ctx, from, to) }
	}
	return cmd
}

// DecideScan decides a scan on the parcel as it was read: whether the actor
// may act on it, the state change (shipment.Decide), and the write that
// makes it durable, or else the answer of a repeat. It is pure; the side
// effects of a shelve and a collect are added by Parcels.Scan.
func DecideScan(p *shipment.Parcel, cmd shipment.Command, req tracking.ScanRequest, number string,
	fingerprint []byte) (ScanWrite, *tracking.ScanResult, error) {
	a := cmd.Actor
	// Clerks and staff act on parcels from, at or bound for their site. A
	// parcel that reached the wrong hall may still be received (to be told
	// it is the wrong site) or reported as misrouted.
	if a.Role.HasSite() && !a.CanSee(p) && req.Action != shipment.ActReceive &&
		!(req.Action == shipment.ActReport && req.Reason == "misrouted") {
		return ScanWrite{}, nil, apperr.New(apperr.Forbidden, "parcel.other_site")
	}
	o, err := shipment.Decide(p, cmd)
	if err != nil {
		return ScanWrite{}, nil, err
	}
	if o.Repeat {
		r := tracking.RepeatAnswer(p, o, req, number, cmd.Now)
		return ScanWrite{}, &r, nil
	}
	return ScanWrite{Parcel: p, Outcome: o, Actor: a, Req: req, Now: cmd.Now, Fingerprint: fingerprint,
		Answer: tracking.Answer(p, o, req, number, cmd.Now), Detail: tracking.EventDetail(p, o, req),
		CheckOff: req.Action == shipment.ActReceive, Slot: slotCheck(req, o.Site)}, nil, nil
}

// slotCheck is the slot rule of a shelve or reslot at site, nil for any
// other action.
func slotCheck(req tracking.ScanRequest, site string) func(required, known bool) error {
	if !req.Action.TakesSlot() {
		return nil
	}
	return func(required, known bool) error { return shipment.CheckShelfSlot(site, req.Slot, required, known) }
}

func deref(r *tracking.ScanResult) tracking.ScanResult {
	if r == nil {
		return tracking.ScanResult{}
	}
	return *r
}

func (s *Parcels) applyOnce(ctx context.Context, a shipment.Actor, req tracking.ScanRequest, number string,
	fingerprint []byte, also func(*ScanWrite)) (tracking.ScanResult, error) {
	p, err := s.Store.ParcelByNumber(ctx, number)
	if err != nil {
		return tracking.ScanResult{}, err
	}
	now := s.now()
	if req.Action == shipment.ActCorrect {
		return s.correct(ctx, p, s.command(ctx, a, req, now), req, number, fingerprint)
	}
	w, repeat, err := DecideScan(p, s.command(ctx, a, req, now), req, number, fingerprint)
	if err != nil || repeat != nil {
		return deref(repeat), err
	}
	switch req.Action {
	case shipment.ActShelve, shipment.ActRecall:
		w.Ready = s.ready(p, w.Outcome, now) // a recall: a fresh code, held anew, told again
	case shipment.ActCollect:
		if err := s.verify(ctx, p, req, &w); err != nil {
			return tracking.ScanResult{}, err
		}
	case shipment.ActReceive:
		w.BookExpress = p.DestKind == shipment.DestAddress && w.Outcome.PathIdx == len(p.Path)-1
	case shipment.ActDispatch:
		w.Dispatch = &Message{Template: "sms.out_for_delivery", Params: map[string]string{"waybill_no": p.WaybillNo}}
	case shipment.ActDeliver:
		// A courier company's own proof stands behind its signed-for push;
		// our courier at the door takes the proof here.
		if a.ID != 0 {
			if err := s.verifyDelivery(ctx, p, req, &w); err != nil {
				return tracking.ScanResult{}, err
			}
		}
	}
	if also != nil {
		also(&w)
	}
	seq, err := s.Store.ApplyScan(ctx, w)
	if err != nil {
		return tracking.ScanResult{}, err
	}
	res := w.Answer
	res.Items[0].Seq = seq
	return res, nil
}

// correct undoes the parcel's latest change (更正): it reads that change,
// decides the correction (shipment.DecideCorrect) and writes it.
func (s *Parcels) correct(ctx context.Context, p *shipment.Parcel, cmd shipment.Command, req tracking.ScanRequest,
	number string, fingerprint []byte) (tracking.ScanResult, error) {
	a := cmd.Actor
	if a.Role.HasSite() && !a.CanSee(p) {
		return tracking.ScanResult{}, apperr.New(apperr.Forbidden, "parcel.other_site")
	}
	if !shipment.MayTake(a.Role, shipment.ActCorrect) {
		// Refused before anything more is read (DecideCorrect says the same).
		return tracking.ScanResult{}, apperr.New(apperr.Forbidden, "action.role_forbidden").
			With("action", string(req.Action)).With("role", string(a.Role))
	}
	last, err := s.Store.LastChange(ctx, p.ID)
	if err != nil {
		return tracking.ScanResult{}, err
	}
	r, err := shipment.DecideCorrect(p, last, cmd, req.Corrects)
	if err != nil {
		return tracking.ScanResult{}, err
	}
	if r.Repeat {
		return tracking.RepeatAnswer(p, r.Outcome, req, number, cmd.Now), nil
	}
	ans := tracking.CorrectAnswer(p, r, req, number, cmd.Now)
	w := CorrectWrite{Parcel: p, Restore: r, Actor: a, Req: req, Now: cmd.Now, Fingerprint: fingerprint,
		Answer: ans, Detail: tracking.CorrectDetail(p, r)}
	seq, err := s.Store.ApplyCorrect(ctx, w)
	if err != nil {
		return tracking.ScanResult{}, err
	}
	ans.Items[0].Seq = seq
	return ans, nil
}

// ready is what shelving sets: the parcel is held to the end of the day its
// certificate type's retention ends, and the holder is told the code.
func (s *Parcels) ready(p *shipment.Parcel, o shipment.Outcome, now time.Time) *Ready {
	days := DefaultRetentionDays
	ct, ok := s.Ref.CertType(p.CertType)
	if ok {
		days = ct.RetentionDays
	}
	hold := endOfDay(now.AddDate(0, 0, days))
	hall, _ := s.Ref.Site(o.Site)
	ctName := ct.NameZH
	if ctName == "" {
		ctName = "证照"
	}
	return &Ready{HoldUntil: hold, Message: Message{Template: "sms.ready", Params: map[string]string{
		"hall": hall.NameZH, "cert_type": ctName,
		"hold_until": tracking.Local(hold).Format("2006-01-02"), "waybill_no": p.WaybillNo,
	}}}
}

// verifyDelivery checks our courier's proof of an express delivery: the
// delivery code the recipient received, or the last four digits of their
// ID number, and a photo and a drawn signature.
func (s *Parcels) verifyDelivery(ctx context.Context, p *shipment.Parcel, req tracking.ScanRequest, w *ScanWrite) error {
	pr := req.Proof
	if pr == nil || (strings.TrimSpace(pr.Code) == "" && strings.TrimSpace(pr.IDTail) == "") {
		return apperr.New(apperr.Invalid, "delivery.verification_required").OnField("proof.delivery_code")
	}
	h, err := s.Store.Holder(ctx, p.ID)
	if err != nil {
		return err
	}
	if code := strings.TrimSpace(pr.Code); code != "" {
		if h.DeliveryHash == nil || !bytes.Equal(s.Keys.Hash(deliveryDomain(p.WaybillNo), code), h.DeliveryHash) {
			return apperr.New(apperr.Invalid, "delivery.code_wrong").OnField("proof.delivery_code")
		}
		w.Detail["verified_by"] = "code"
	} else {
		tail := strings.ToUpper(strings.TrimSpace(pr.IDTail))
		if len(tail) != 4 || h.IDTail == "" || tail != strings.ToUpper(h.IDTail) {
			return apperr.New(apperr.Invalid, "delivery.id_mismatch").OnField("proof.id_tail")
		}
		w.Detail["verified_by"] = "id"
	}
	if len(pr.Photo) == 0 {
		return apperr.New(apperr.Invalid, "delivery.photo_required").OnField("proof.photo")
	}
	photoType, err := CheckPhoto(pr.Photo)
	if err != nil {
		return withField(err, "proof.photo")
	}
	sigType, err := CheckPhoto(pr.Signature)
	if err != nil || sigType != "image/png" {
		return apperr.New(apperr.Invalid, "delivery.signature_required").OnField("proof.signature")
	}
	proof := *pr
	proof.PhotoType = photoType
	w.Delivered = &proof
	return nil
}

// deliveryDomain is the hash domain of an express parcel's delivery code.
func deliveryDomain(waybill string) string { return "delivery:" + waybill }

// DeliveryDomain is the hash domain of an express parcel's delivery code
// (the store draws the code and keeps its hash).
func DeliveryDomain(waybill string) string { return deliveryDomain(waybill) }

// verify checks a collect: the collection code or the holder's ID number,
// and a proxy's particulars.
func (s *Parcels) verify(ctx context.Context, p *shipment.Parcel, req tracking.ScanRequest, w *ScanWrite) error {
	h, err := s.Store.Holder(ctx, p.ID)
	if err != nil {
		return err
	}
	code := strings.TrimSpace(req.CollectionCode)
	idNo := strings.TrimSpace(req.IDNumber)
	switch {
	case code != "":
		// Codes are hashed per hall; those made before were hashed per parcel.
		if !bytes.Equal(s.Keys.Hash(shipment.CodeHashDomain(p.CurrentSite()), code), h.CodeHash) &&
			!bytes.Equal(s.Keys.Hash(shipment.CodeHashDomain(p.WaybillNo), code), h.CodeHash) {
			return apperr.New(apperr.Invalid, "collect.code_wrong").OnField("collection_code")
		}
		w.Detail["verified_by"] = "code"
	case idNo != "":
		norm, err := shipment.ValidateID(h.IDType, idNo)
		if err != nil {
			return withField(err, "id_number")
		}
		if !bytes.Equal(s.Keys.Hash(string(h.IDType), norm), h.IDHash) {
			return apperr.New(apperr.Invalid, "collect.id_mismatch").OnField("id_number")
		}
		w.Detail["verified_by"] = "id"
	default:
		return apperr.New(apperr.Invalid, "collect.verification_required").OnField("collection_code")
	}
	if pr := req.Proxy; pr != nil {
		name, err := shipment.ValidateName(pr.Name)
		if err != nil || (strings.TrimSpace(pr.Authorisation) == "" && len(pr.Photo) == 0) || pr.IDNumber == "" {
			return apperr.New(apperr.Invalid, "collect.proxy_incomplete").OnField("proxy")
		}
		photoType, err := CheckPhoto(pr.Photo)
		if err != nil {
			return err
		}
		idType := pr.IDType
		if idType == "" {
			idType = shipment.IDResident
		}
		norm, err := shipment.ValidateID(idType, pr.IDNumber)
		if err != nil {
			return withField(err, "proxy.id_number")
		}
		if len([]rune(pr.Authorisation)) > 64 {
			return apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("proxy.authorisation").With("field", "proxy.authorisation")
		}
		w.Proxy = &tracking.Proxy{Name: name, IDType: idType, IDNumber: norm, Authorisation: strings.TrimSpace(pr.Authorisation),
			Photo: pr.Photo, PhotoType: photoType}
		w.Detail["proxy"] = true
	}
	return nil
}

// scanBag applies a scan of a bag or run number: pickup moves every parcel
// in the bag to in_transit (returning parcels stay returning, on their leg);
// receive at the destination marks the bag arrived and opens its check list.
func (s *Parcels) scanBag(ctx context.Context, a shipment.Actor, req tracking.ScanRequest, code shipment.Code,
	fingerprint []byte) (tracking.ScanResult, error) {
	if r, ok, err := s.prior(ctx, req.ScanID, fingerprint); ok || err != nil {
		return r, err
	}
	if req.Action != shipment.ActPickup && req.Action != shipment.ActReceive {
		return tracking.ScanResult{}, apperr.New(apperr.Invalid, "bag.action_unsupported").OnField("action").
			With("action", string(req.Action))
	}
	if !shipment.MayTake(a.Role, req.Action) {
		return tracking.ScanResult{}, apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", string(req.Action))
	}
	now := s.now()
	w := BagWrite{Code: code, Actor: a, Req: req, Now: now, Fingerprint: fingerprint,
		Answer: tracking.ScanResult{ScanID: req.ScanID, Kind: string(code.Kind), Code: code.Number, At: tracking.Local(now)}}
	res, err := s.Store.ScanBag(ctx, w, func(r Run) (BagStep, error) { return bagStep(a, req, r) })
	if errors.Is(err, ErrScanIDTaken) {
		if r, ok, perr := s.prior(ctx, req.ScanID, fingerprint); ok || perr != nil {
			return r, perr
		}
	}
	return res, err
}

// bagStep decides a bag scan on its locked run.
func bagStep(a shipment.Actor, req tracking.ScanRequest, run Run) (BagStep, error) {
	if !a.MayActOnRun(run.FromSite, run.ToSite) {
		return 0, apperr.New(apperr.Forbidden, "scan.other_site").With("site", a.Site)
	}
	site := req.Site
	if site == "" {
		site = a.Site
	}
	if a.Role.HasSite() && site != a.Site {
		return 0, apperr.New(apperr.Forbidden, "scan.other_site").With("site", site)
	}
	if req.Action == shipment.ActPickup {
		if site == "" {
			site = run.FromSite
		}
		if site != run.FromSite {
			return 0, apperr.New(apperr.Conflict, "scan.wrong_site").With("site", site).With("expected", run.FromSite).
				With("action", "pickup").With("status", run.Status)
		}
		switch run.Status {
		case "picked_up":
			return BagRepeat, nil
		case "sealed":
			return BagPickup, nil
		}
		return 0, apperr.New(apperr.Conflict, "bag.state").With("status", run.Status).With("action", "pickup")
	}
	if site == "" {
		site = run.ToSite
	}
	if site != run.ToSite {
		return 0, apperr.New(apperr.Conflict, "scan.wrong_site").With("site", site).With("expected", run.ToSite).
			With("action", "receive").With("status", run.Status)
	}
	switch run.Status {
	case "arrived", "closed":
		return BagRepeat, nil
	case "sealed":
		// Its parcels are still awaiting pickup: the courier scans the bag first.
		return 0, apperr.New(apperr.Conflict, "bag.not_picked_up").With("status", run.Status).With("action", "receive")
	case "picked_up":
		return BagArrive, nil
	}
	return BagList, nil
}

// endOfDay is the last instant of t's day in Asia/Shanghai, in UTC.
func endOfDay(t time.Time) time.Time {
	l := tracking.Local(t)
	return time.Date(l.Year(), l.Month(), l.Day(), 23, 59, 59, 0, tracking.Shanghai).UTC()
}

// withField names the offending input field on an application error.
func withField(err error, field string) error {
	if e := apperr.As(err); e != nil && e.Field == "" {
		return e.OnField(field)
	}
	return err
}
