package postgres

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/secrets"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Ledger is the store of the service's use cases (service.Store,
// service.RunStore): the reads, and one transaction per change, in which
// every change is an appended event written with the parcel's current
// state. The rules are the service's; the ledger lists parcels, prints
// labels and runs the jobs' statements too.
type Ledger struct {
	Pool *pgxpool.Pool
	Ref  *RefData
	Keys *secrets.Keys
	Now  func() time.Time
	// Routes computes paths; nil means direct paths.
	Routes *Routes
	// Kick is called after a commit that wrote outbox rows (may be nil).
	Kick func()
	// PublicURL is the service's public address (COURIER_PUBLIC_URL): the
	// parcels' private links are PublicURL/s/{token}.
	PublicURL string
	// NewCode draws a collection code (nil: six random digits).
	NewCode func() (string, error)
	// DigestKey signs the daily digests (nil: unsigned).
	DigestKey ed25519.PrivateKey
	// Carrier names the carrier a run's booking is made with ("": manual).
	Carrier string
	// ExpressCarrier names the carrier express parcels are booked with;
	// ExpressHook queues the booking in the transaction that registered the
	// parcel (nil: express parcels are not booked).
	ExpressCarrier string
	ExpressHook    RunHook
	// NewBagNo draws a run's bag number (nil: a random one; tests fix it).
	NewBagNo func() string
}

const parcelCols = `p.id, p.waybill_no, p.kind, p.origin_site, p.dest_kind, coalesce(p.dest_site, ''), p.path,
	p.path_idx, p.leg_moving, p.status, coalesce(p.prev_status, ''), coalesce(p.cert_type, ''),
	coalesce(p.issuing_dept, ''), p.application_no, coalesce(p.created_by, 0), p.created_at, p.updated_at,
	p.version, p.ready_since, p.hold_until, p.last_action, p.last_site, p.last_at, p.run_sealed,
	coalesce(p.current_run, 0), p.path_broken, coalesce(p.slot, '')`

func scanParcel(row pgx.Row, extra ...any) (*shipment.Parcel, error) {
	var p shipment.Parcel
	dest := []any{&p.ID, &p.WaybillNo, &p.Kind, &p.OriginSite, &p.DestKind, &p.DestSite, &p.Path,
		&p.PathIdx, &p.LegMoving, &p.Status, &p.PrevStatus, &p.CertType, &p.IssuingDept, &p.ApplicationNo,
		&p.CreatedBy, &p.CreatedAt, &p.UpdatedAt, &p.Version, &p.ReadySince, &p.HoldUntil, &p.LastAction,
		&p.LastSite, &p.LastAt, &p.RunSealed, &p.CurrentRun, &p.PathBroken, &p.Slot}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	return &p, nil
}

func (l *Ledger) now() time.Time { return l.Now().UTC().Truncate(time.Microsecond) }

// Register stores a new parcel with its people, its private link and its
// first event, in one transaction, under a waybill number and a link drawn
// at random (drawn again when one collides). Errors:
// service.ErrApplicationTaken (wrapped).
func (l *Ledger) Register(ctx context.Context, w service.RegisterWrite) (tracking.ParcelView, error) {
	r, a, now := w.Reg, w.Actor, w.Now
	var certType, issuing *string
	if r.Certificate != nil {
		certType, issuing = &r.Certificate.Type, &r.Certificate.IssuingDep
	}
	var destSite *string
	if r.Destination.Kind != shipment.DestAddress {
		destSite = &r.Destination.Site
	}
	var createdBy *int64
	if a.ID != 0 {
		createdBy = &a.ID
	}
	for attempt := 0; ; attempt++ {
		no := shipment.NewNumber(shipment.KindParcel)
		link := shipment.NewLinkToken()
		var p *shipment.Parcel
		err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
			var err error
			p, err = scanParcel(tx.QueryRow(ctx, `INSERT INTO parcels AS p (waybill_no, kind, origin_site, dest_kind,
				dest_site, path, status, cert_type, issuing_dept, application_no, created_by, created_at, updated_at,
				last_action, last_site, last_at)
				VALUES ($1, $2, $3, $4, $5, $6, 'registered', $7, $8, $9, $10, $11, $11, 'register', $3, $11)
				RETURNING `+parcelCols,
				no, r.Kind, r.OriginSite, r.Destination.Kind, destSite, w.Path, certType, issuing,
				r.ApplicationNo, createdBy, now))
			if err != nil {
				return err
			}
			if err := l.insertPeople(ctx, tx, p.ID, r, w.RegHash); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO parcel_links (parcel_id, token_hash, token_enc, created_at)
				VALUES ($1, $2, $3, $4)`, p.ID, l.Keys.Hash(linkDomain, link), l.Keys.Encrypt([]byte(link), linkAD(p.ID)), now); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, registerEventStmt, p.ID, r.OriginSite, createdBy, a.Role, w.Source, now); err != nil {
				return err
			}
			if r.Destination.Kind == shipment.DestAddress {
				return l.bookExpress(ctx, tx, p.ID, now)
			}
			return nil
		})
		if (isUnique(err, "parcels_waybill_no_key") || isUnique(err, "parcel_links_token_hash_key")) && attempt < 5 {
			continue // a random number collided: draw another
		}
		if isUnique(err, "parcels_application_no_key") {
			return tracking.ParcelView{}, fmt.Errorf("%w: %w", service.ErrApplicationTaken, err)
		}
		if err != nil {
			return tracking.ParcelView{}, translate(err, "parcel")
		}
		return l.view(a, p, &personRow{applicantType: r.Applicant.Type, name: r.Applicant.Name,
			contact: r.Applicant.ContactName, phone: r.Applicant.Phone, idType: r.Applicant.IDType,
			idTail: shipment.IDTail(r.Applicant.IDNumber, 4), address: r.Destination.Address, link: link}), nil
	}
}

// Registered reads the parcel registered under r's origin, kind and
// application number, with the hash of its registration.
func (l *Ledger) Registered(ctx context.Context, a shipment.Actor, r *shipment.Registration) (tracking.ParcelView, []byte, error) {
	var pr personRow
	var stored []byte
	p, err := scanParcel(l.Pool.QueryRow(ctx, `SELECT `+parcelCols+`, `+personCols+`, pp.reg_hash
		FROM parcels p LEFT JOIN parcel_people pp ON pp.parcel_id = p.id
		WHERE p.origin_site = $1 AND p.kind = $2 AND p.application_no = $3`, r.OriginSite, r.Kind, r.ApplicationNo),
		append(scanPerson(&pr), &stored)...)
	if err != nil {
		return tracking.ParcelView{}, nil, translate(err, "parcel")
	}
	return l.view(a, p, &pr), stored, nil
}

func (l *Ledger) insertPeople(ctx context.Context, tx pgx.Tx, id int64, r *shipment.Registration, regHash []byte) error {
	ap := r.Applicant
	ad := parcelAD(id)
	var addr []byte
	if r.Destination.Address != nil {
		addr, _ = json.Marshal(r.Destination.Address)
	}
	var certNo []byte
	if r.Certificate != nil && r.Certificate.Number != "" {
		certNo = l.Keys.Encrypt([]byte(r.Certificate.Number), ad)
	}
	_, err := tx.Exec(ctx, `INSERT INTO parcel_people (parcel_id, applicant_type, name, contact_name, phone,
		id_type, id_hash, id_enc, id_tail, address, cert_no_enc, notes, reg_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		id, ap.Type, ap.Name, ap.ContactName, ap.Phone, ap.IDType,
		l.Keys.Hash(string(ap.IDType), ap.IDNumber), l.Keys.Encrypt([]byte(ap.IDNumber), ad),
		shipment.IDTail(ap.IDNumber, 4), addr, certNo, r.Notes, regHash)
	return err
}

func parcelAD(id int64) []byte { return []byte("parcel:" + strconv.FormatInt(id, 10)) }

// A private link's token is kept as a keyed hash (to find the parcel by it)
// and as ciphertext bound to the parcel (to send it again in the ready SMS).
// Random rather than derived from the parcel id with a keyed HMAC: deleting
// the row at the end makes the link gone for good, even to whoever holds the
// keys, and a database copy alone neither reveals nor recomputes any link.
const linkDomain = "link"

func linkAD(id int64) []byte { return []byte("link:" + strconv.FormatInt(id, 10)) }

// linkToken opens a stored private link (nil or undecryptable: none).
func (l *Ledger) linkToken(id int64, enc []byte) string {
	if len(enc) == 0 {
		return ""
	}
	b, err := l.Keys.Decrypt(enc, linkAD(id))
	if err != nil || !shipment.ValidLinkToken(string(b)) {
		return ""
	}
	return string(b)
}

// PrivateLink returns the address of a parcel's private link while it is
// valid, "" once it has expired or gone (or for a parcel registered before
// links existed): for the messages that carry it, such as the ready SMS.
func (l *Ledger) PrivateLink(ctx context.Context, parcelID int64) (string, error) {
	var enc []byte
	err := l.Pool.QueryRow(ctx, `SELECT pl.token_enc FROM parcel_links pl JOIN parcels p ON p.id = pl.parcel_id
		WHERE pl.parcel_id = $1 AND (p.journey_ended_at IS NULL OR p.journey_ended_at > $2)`,
		parcelID, l.now().Add(-LinkGrace)).Scan(&enc)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", translate(err, "parcel")
	}
	return l.PrivateURL(l.linkToken(parcelID, enc)), nil
}

// EnsureLinks gives a private link to every parcel whose link is still due
// and missing (those registered before links existed), so that the staff
// view and the messages carry one. Safe to run on every instance at start.
func (l *Ledger) EnsureLinks(ctx context.Context) (int, error) {
	total := 0
	for {
		rows, err := l.Pool.Query(ctx, `SELECT p.id FROM parcels p
			WHERE (p.journey_ended_at IS NULL OR p.journey_ended_at > $1)
			  AND NOT EXISTS (SELECT 1 FROM parcel_links pl WHERE pl.parcel_id = p.id)
			  AND EXISTS (SELECT 1 FROM parcel_people pp WHERE pp.parcel_id = p.id AND pp.purged_at IS NULL)
			ORDER BY p.id LIMIT 1000`, l.now().Add(-LinkGrace))
		if err != nil {
			return total, translate(err, "parcel")
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return total, translate(err, "parcel")
		}
		hashes, encs := make([][]byte, len(ids)), make([][]byte, len(ids))
		for i, id := range ids {
			tok := shipment.NewLinkToken()
			hashes[i], encs[i] = l.Keys.Hash(linkDomain, tok), l.Keys.Encrypt([]byte(tok), linkAD(id))
		}
		tag, err := l.Pool.Exec(ctx, `INSERT INTO parcel_links (parcel_id, token_hash, token_enc, created_at)
			SELECT id, h, e, $4::timestamptz FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u (id, h, e)
			ON CONFLICT DO NOTHING`, ids, hashes, encs, l.now())
		if err != nil {
			return total, translate(err, "parcel")
		}
		total += int(tag.RowsAffected())
		if len(ids) < 1000 {
			return total, nil
		}
	}
}

// PrivateURL is the address of a private link.
func (l *Ledger) PrivateURL(token string) string {
	if token == "" {
		return ""
	}
	return l.PublicURL + "/s/" + token
}

type personRow struct {
	applicantType shipment.ApplicantType
	name, contact string
	phone         string
	idType        shipment.IDType
	idTail        string
	address       *shipment.Address
	purged        bool
	link          string // the private link's token, when it is still valid
}

// view is a parcel as the actor may see it (tracking.StaffView).
func (l *Ledger) view(a shipment.Actor, p *shipment.Parcel, pr *personRow) tracking.ParcelView {
	return tracking.StaffView(a, p, l.recipient(pr))
}

// recipient maps a person row to the domain's, with the private link's
// address.
func (l *Ledger) recipient(pr *personRow) *tracking.Recipient {
	if pr == nil {
		return nil
	}
	return &tracking.Recipient{Type: pr.applicantType, Name: pr.name, ContactName: pr.contact, Phone: pr.phone,
		IDType: pr.idType, IDTail: pr.idTail, Address: pr.address, Purged: pr.purged, PrivateURL: l.PrivateURL(pr.link)}
}

const personCols = `coalesce(pp.applicant_type, ''), coalesce(pp.name, ''), coalesce(pp.contact_name, ''),
	coalesce(pp.phone, ''), coalesce(pp.id_type, ''), coalesce(pp.id_tail, ''), pp.address, pp.purged_at IS NOT NULL`

func scanPerson(pr *personRow) []any {
	return []any{&pr.applicantType, &pr.name, &pr.contact, &pr.phone, &pr.idType, &pr.idTail, &pr.address, &pr.purged}
}

// ParcelRecord reads a parcel with its person data, the private link
// included while it is valid. Errors: parcel.not_found.
func (l *Ledger) ParcelRecord(ctx context.Context, waybill string, linkSince time.Time) (*shipment.Parcel, *tracking.Recipient, error) {
	var pr personRow
	var linkEnc []byte
	p, err := scanParcel(l.Pool.QueryRow(ctx, `SELECT `+parcelCols+`, `+personCols+`,
		CASE WHEN p.journey_ended_at IS NULL OR p.journey_ended_at > $2 THEN pl.token_enc END
		FROM parcels p LEFT JOIN parcel_people pp ON pp.parcel_id = p.id LEFT JOIN parcel_links pl ON pl.parcel_id = p.id
		WHERE p.waybill_no = $1`, waybill, linkSince),
		append(scanPerson(&pr), &linkEnc)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, apperr.New(apperr.NotFound, "parcel.not_found").With("waybill_no", waybill)
	}
	if err != nil {
		return nil, nil, translate(err, "parcel")
	}
	pr.link = l.linkToken(p.ID, linkEnc)
	return p, l.recipient(&pr), nil
}

// ListParcels lists the parcels the actor may see that match q, newest
// first, at most q.Limit, with the id to list before for the next page (0:
// none follows). What the actor may see is the query's scope (the SQL form
// of shipment.Actor.CanSee; a courier sees the parcels it handled).
func (l *Ledger) ListParcels(ctx context.Context, a shipment.Actor, q service.ListQuery) ([]tracking.ParcelView, int64, error) {
	where := []string{"true"}
	args := []any{}
	from := "parcels p"
	order := "p.id DESC"
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	switch a.Role {
	case shipment.RoleClerk:
		s := arg(a.Site)
		where = append(where, "(p.origin_site = "+s+" OR p.dest_site = "+s+")")
	case shipment.RoleStaff, shipment.RoleHallLead:
		s := arg(a.Site)
		where = append(where, "(p.origin_site = "+s+" OR p.path @> ARRAY["+s+"::text])")
	case shipment.RoleAPIClient:
		d := arg(a.Departments)
		where = append(where, "(p.origin_site = ANY("+d+") OR p.dest_site = ANY("+d+"))")
	case shipment.RoleCourier:
		where = append(where, "EXISTS (SELECT 1 FROM events e WHERE e.parcel_id = p.id AND e.actor_id = "+arg(a.ID)+")")
	}
	rareEnd := ""
	if q.Status != "" {
		st := arg(string(q.Status))
		where = append(where, "p.status = "+st)
		if q.Status == shipment.Returned || q.Status == shipment.Cancelled {
			rareEnd = st
		}
	}
	if q.Site != "" {
		s := arg(q.Site)
		where = append(where, "(p.origin_site = "+s+" OR p.path @> ARRAY["+s+"::text])")
	}
	dest := ""
	if q.Dest != "" {
		dest = arg(q.Dest)
		where = append(where, "p.dest_site = "+dest)
	}
	if !q.Since.IsZero() {
		where = append(where, "p.created_at >= "+arg(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "p.created_at < "+arg(q.Until))
	}
	days := !q.Since.IsZero() || !q.Until.IsZero()
	// driver, when set, lists the candidate ids, newest first, by an index
	// of their own; each is then read by its key and filtered (a nested
	// loop the planner cannot turn into a walk of every parcel: its
	// estimates know nothing of how states and searches age).
	var driver []string
	before := ""
	if q.Before > 0 && !days {
		before = arg(q.Before)
	}
	switch {
	case q.Text != "":
		// Each way a text may match is a lookup by its own index, the ids
		// united (an OR over both tables would scan them all).
		t := arg(q.Text)
		driver = []string{"SELECT id FROM parcels WHERE application_no = " + t + " AND application_no <> ''",
			"SELECT parcel_id FROM parcel_people WHERE name = " + t + " AND name <> ''"}
		if q.Number != "" {
			driver = append(driver, "SELECT id FROM parcels WHERE waybill_no = "+arg(q.Number))
		}
		if q.Slot != "" {
			driver = append(driver, "SELECT id FROM parcels WHERE code_site IS NOT NULL AND slot = "+arg(q.Slot))
		}
		if q.PhoneTail != "" {
			driver = append(driver, "SELECT parcel_id FROM parcel_people WHERE phone <> '' AND right(phone, 4) = "+arg(q.PhoneTail))
		} else if q.Phone != "" {
			driver = append(driver, "SELECT parcel_id FROM parcel_people WHERE phone = "+arg(q.Phone))
		}
	case rareEnd != "" && !days:
		// Returned or cancelled: a few in a hundred, mostly long ago, by
		// their own index (rare_end, migration 00023), newest first. Left to
		// the planner, a window's list read every parcel passing it.
		d := "SELECT id FROM parcels WHERE rare_end = " + rareEnd
		if dest != "" {
			d += " AND dest_site = " + dest
		}
		driver = []string{d}
	}
	switch {
	case driver != nil:
		cond := ""
		if before != "" {
			cond = " WHERE id < " + before
		}
		from = "(SELECT id FROM (" + strings.Join(driver, " UNION ") + ") u (id)" + cond + " ORDER BY id DESC) m" +
			" CROSS JOIN LATERAL (SELECT * FROM parcels c WHERE c.id = m.id OFFSET 0) p"
		order = "m.id DESC" // a days list orders by registration below
	case before != "":
		where = append(where, "p.id < "+before)
	}
	if days {
		// Days of registration: newest registered first, walked backwards
		// on parcels_created from the last day (by id, a list of a month
		// long ago would first pass every parcel since). The cursor is still
		// a parcel's id; the page goes on before that parcel's place.
		order = "p.created_at DESC, p.id DESC"
		if q.Before > 0 {
			where = append(where, "(p.created_at, p.id) < (SELECT b.created_at, b.id FROM parcels b WHERE b.id = "+arg(q.Before)+")")
		}
	}
	sql := `SELECT ` + parcelCols + `, ` + personCols + ` FROM ` + from + ` LEFT JOIN parcel_people pp ON pp.parcel_id = p.id
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(q.Limit+1)
	rows, err := l.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, translate(err, "parcel")
	}
	defer rows.Close()
	var out []tracking.ParcelView
	var lastID, next int64
	for rows.Next() {
		var pr personRow
		p, err := scanParcel(rows, scanPerson(&pr)...)
		if err != nil {
			return nil, 0, translate(err, "parcel")
		}
		if len(out) == q.Limit {
			next = lastID
			break
		}
		lastID = p.ID
		out = append(out, l.view(a, p, &pr))
	}
	if err := rows.Err(); err != nil {
		return nil, 0, translate(err, "parcel")
	}
	return out, next, nil
}

func (l *Ledger) events(ctx context.Context, id int64, waybill string) ([]tracking.Event, error) {
	rows, err := l.Pool.Query(ctx, `SELECT seq, action, coalesce(status_before, ''), status_after, site_code,
		coalesce(actor_id, 0), actor_role, source, device, coalesce(scan_id, ''), device_time, server_time,
		coalesce(run_id, ''), coalesce(bag_id, ''), coalesce(leg_id, ''), reason, coalesce(detail->>'slot', ''),
		CASE WHEN action = 'correct' THEN (detail->>'corrects')::int ELSE 0 END
		FROM events WHERE parcel_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, translate(err, "event")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tracking.Event, error) {
		e := tracking.Event{ParcelID: id, WaybillNo: waybill}
		err := r.Scan(&e.Seq, &e.Action, &e.StatusBefore, &e.StatusAfter, &e.Site, &e.ActorID, &e.ActorRole,
			&e.Source, &e.Device, &e.ScanID, &e.DeviceTime, &e.ServerTime, &e.RunID, &e.BagID, &e.LegID, &e.Reason, &e.Slot, &e.Corrects)
		e.ServerTime = tracking.Local(e.ServerTime)
		e.DeviceTime = tracking.LocalPtr(e.DeviceTime)
		return e, err
	})
	if err != nil {
		return nil, translate(err, "event")
	}
	return out, nil
}

// Handled reports whether the actor appears on an event of the parcel.
func (l *Ledger) Handled(ctx context.Context, actorID, parcelID int64) (bool, error) {
	var handled bool
	err := l.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE actor_id = $1 AND parcel_id = $2)`,
		actorID, parcelID).Scan(&handled)
	return handled, translate(err, "parcel")
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (l *Ledger) parcelByNumber(ctx context.Context, q querier, waybill string) (*shipment.Parcel, error) {
	p, err := scanParcel(q.QueryRow(ctx, `SELECT `+parcelCols+` FROM parcels p WHERE p.waybill_no = $1`, waybill))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "parcel.not_found").With("waybill_no", waybill)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read parcel: %w", err)
	}
	return p, nil
}

// AppendNote records an event that changes no state (label printed, message
// sent, note) on the parcel with id.
func AppendNote(ctx context.Context, tx pgx.Tx, parcelID int64, a shipment.Actor, action shipment.Action,
	src shipment.Source, site string, now time.Time, detail map[string]any) error {
	_, err := appendNote(ctx, tx, parcelID, a, action, src, site, "", now, detail)
	return err
}

// appendNote is AppendNote with a reason, returning the event's seq.
func appendNote(ctx context.Context, tx pgx.Tx, parcelID int64, a shipment.Actor, action shipment.Action,
	src shipment.Source, site, reason string, now time.Time, detail map[string]any) (int, error) {
	var seq int
	var status string
	err := tx.QueryRow(ctx, `UPDATE parcels SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq, status`,
		parcelID).Scan(&seq, &status)
	if err != nil {
		return 0, fmt.Errorf("ledger: append %s: %w", action, err)
	}
	var actor *int64
	if a.ID != 0 {
		actor = &a.ID
	}
	if detail == nil {
		detail = map[string]any{}
	}
	_, err = tx.Exec(ctx, noteEventStmt, parcelID, seq, action, status, site, actor, a.Role, src, now, detail, reason)
	if err != nil {
		return 0, fmt.Errorf("ledger: append %s: %w", action, err)
	}
	return seq, nil
}

// RecordRead appends a staff read of personal data (waybill numbers only).
func (l *Ledger) RecordRead(ctx context.Context, r service.PersonalRead) error {
	var actorID *int64
	if r.Actor.ID != 0 {
		actorID = &r.Actor.ID
	}
	_, err := l.Pool.Exec(ctx, `INSERT INTO personal_reads (at, actor_id, actor_username, actor_role, site, purpose,
		matched_by, waybills) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.At.UTC(), actorID, r.Actor.Username, r.Actor.Role, r.Actor.Site, r.Purpose, r.MatchedBy, r.Waybills)
	return translate(err, "personal_read")
}
