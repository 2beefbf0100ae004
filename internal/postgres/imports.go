package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// draftRows is what a draft keeps encrypted: its rows hold personal data.
type draftRows struct {
	Rows     []service.ImportRow       `json:"rows"`
	Refused  []tracking.ImportRefusal  `json:"refused"`
	Existing []tracking.ImportExisting `json:"existing"`
}

func importAD(id string) []byte { return []byte("import:" + id) }

// SaveImport keeps a new draft, its rows encrypted, and deletes the drafts
// that expired (the personal-data purge deletes them too).
func (l *Ledger) SaveImport(ctx context.Context, d *service.ImportDraft) error {
	b, err := json.Marshal(draftRows{Rows: d.Rows, Refused: d.Refused, Existing: d.Existing})
	if err != nil {
		return fmt.Errorf("postgres: import: %w", err)
	}
	return translate(WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM import_drafts WHERE expires_at < $1`, l.now()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO import_drafts (id, user_id, site, file_name, encoding, kind, total,
			created_at, expires_at, rows_enc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			d.ID, d.UserID, d.Site, d.FileName, d.Encoding, d.Kind, d.Total, d.CreatedAt, d.ExpiresAt,
			l.Keys.Encrypt(b, importAD(d.ID)))
		return err
	}), "import")
}

// Import reads the user's draft. Errors: import.not_found.
func (l *Ledger) Import(ctx context.Context, id string, userID int64) (*service.ImportDraft, error) {
	d := &service.ImportDraft{ID: id}
	var enc, result []byte
	err := l.Pool.QueryRow(ctx, `SELECT user_id, site, file_name, encoding, kind, total, created_at, expires_at,
		rows_enc, result FROM import_drafts WHERE id = $1 AND user_id = $2 AND expires_at >= $3`, id, userID, l.now()).
		Scan(&d.UserID, &d.Site, &d.FileName, &d.Encoding, &d.Kind, &d.Total, &d.CreatedAt, &d.ExpiresAt, &enc, &result)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "import.not_found")
	}
	if err != nil {
		return nil, translate(err, "import")
	}
	plain, err := l.Keys.Decrypt(enc, importAD(id))
	if err != nil {
		return nil, fmt.Errorf("postgres: import %s: %w", id, err)
	}
	var rows draftRows
	if err := json.Unmarshal(plain, &rows); err != nil {
		return nil, fmt.Errorf("postgres: import %s: %w", id, err)
	}
	d.Rows, d.Refused, d.Existing = rows.Rows, rows.Refused, rows.Existing
	if result != nil {
		d.Result = new(tracking.ImportResult)
		if err := json.Unmarshal(result, d.Result); err != nil {
			return nil, fmt.Errorf("postgres: import %s: %w", id, err)
		}
	}
	return d, nil
}

// RegisteredNumbers answers, of nos, those the origin registered for the
// kind, with their registrations' hashes.
func (l *Ledger) RegisteredNumbers(ctx context.Context, origin string, kind shipment.Kind, nos []string) (map[string]service.Registered, error) {
	// Planned for each call's numbers (an unnamed statement): the generic
	// plan a cached statement falls back to after five calls walks all the
	// origin's parcels for each number (26 s for 10,000 on 40,000 parcels).
	rows, err := l.Pool.Query(ctx, `SELECT p.application_no, p.waybill_no, pp.reg_hash
		FROM (SELECT DISTINCT no FROM unnest($3::text[]) AS u (no) WHERE no <> '') u
		JOIN parcels p ON p.origin_site = $1 AND p.kind = $2 AND p.application_no = u.no AND p.application_no <> ''
		LEFT JOIN parcel_people pp ON pp.parcel_id = p.id`,
		pgx.QueryExecModeExec, origin, kind, nos)
	if err != nil {
		return nil, translate(err, "parcel")
	}
	defer rows.Close()
	got := map[string]service.Registered{}
	for rows.Next() {
		var no string
		var r service.Registered
		if err := rows.Scan(&no, &r.WaybillNo, &r.RegHash); err != nil {
			return nil, translate(err, "parcel")
		}
		got[no] = r
	}
	return got, translate(rows.Err(), "parcel")
}

// importEventStmt is the first event of each parcel an import registered.
var importEventStmt = insertEvents("parcels p WHERE p.id = ANY($1::bigint[]) ORDER BY p.id", ev{
	"parcel_id": "p.id", "seq": "1", "action": "'register'", "status_after": "'registered'",
	"site_code": "p.origin_site", "actor_id": "$2", "actor_role": "$3", "source": "$4", "server_time": "$5"})

// RegisterImport makes a draft's choice in one transaction: the draft
// locked (a choice made already answers its result and
// service.ErrImportDone), the parcels of ws inserted in one statement each
// for the parcels, their people, their links and their first events, the
// rows whose application number was registered meanwhile skipped and
// counted, and the result kept with the draft.
func (l *Ledger) RegisterImport(ctx context.Context, id string, userID int64, choice string, ws []service.RegisterWrite, now time.Time) (*tracking.ImportResult, error) {
	for attempt := 0; ; attempt++ {
		var res *tracking.ImportResult
		done := false
		err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
			var stored []byte
			err := tx.QueryRow(ctx, `SELECT result FROM import_drafts WHERE id = $1 AND user_id = $2 FOR UPDATE`,
				id, userID).Scan(&stored)
			if errors.Is(err, pgx.ErrNoRows) {
				return apperr.New(apperr.NotFound, "import.not_found")
			}
			if err != nil {
				return err
			}
			if stored != nil {
				done, res = true, new(tracking.ImportResult)
				return json.Unmarshal(stored, res)
			}
			res = &tracking.ImportResult{Choice: choice, At: now.UTC()}
			if len(ws) > 0 {
				if res.Created, err = l.insertImported(ctx, tx, ws); err != nil {
					return err
				}
				res.Existing = len(ws) - len(res.Created)
			}
			b, _ := json.Marshal(res)
			// A discard keeps nothing of the rows (their personal data); an
			// import keeps them until the draft expires, for its result page
			// to list the refused rows to correct.
			_, err = tx.Exec(ctx, `UPDATE import_drafts SET result = $2, chosen_at = $3,
				rows_enc = CASE WHEN $4 THEN $5 ELSE rows_enc END WHERE id = $1`,
				id, b, now, choice == "discard", l.Keys.Encrypt([]byte(`{}`), importAD(id)))
			return err
		})
		if (isUnique(err, "parcels_waybill_no_key") || isUnique(err, "parcel_links_token_hash_key")) && attempt < 5 {
			continue // a random number collided: draw them again
		}
		if err != nil {
			return nil, translate(err, "import")
		}
		if done {
			return res, service.ErrImportDone
		}
		return res, nil
	}
}

// insertImported inserts the parcels of ws, skipping those whose
// application number is taken, and answers the waybill numbers of those
// inserted, in ws's order.
func (l *Ledger) insertImported(ctx context.Context, tx pgx.Tx, ws []service.RegisterWrite) ([]string, error) {
	n := len(ws)
	rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('parcels', 'id')) FROM generate_series(1, $1)`, n)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	a, now := ws[0].Actor, ws[0].Now
	var createdBy *int64
	if a.ID != 0 {
		createdBy = &a.ID
	}
	nos, kinds, origins, destKinds := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	destSites, certTypes, issuing := make([]*string, n), make([]*string, n), make([]*string, n)
	paths, appNos := make([]string, n), make([]string, n)
	for i, w := range ws {
		r := w.Reg
		nos[i], kinds[i], origins[i], destKinds[i] = shipment.NewNumber(shipment.KindParcel), string(r.Kind), r.OriginSite, string(r.Destination.Kind)
		if r.Destination.Kind != shipment.DestAddress {
			destSites[i] = &r.Destination.Site
		}
		if r.Certificate != nil {
			certTypes[i], issuing[i] = &r.Certificate.Type, &r.Certificate.IssuingDep
		}
		paths[i], appNos[i] = strings.Join(w.Path, ","), r.ApplicationNo
	}
	rows, err = tx.Query(ctx, `INSERT INTO parcels AS p (id, waybill_no, kind, origin_site, dest_kind, dest_site, path,
		status, cert_type, issuing_dept, application_no, created_by, created_at, updated_at, last_action, last_site, last_at)
		OVERRIDING SYSTEM VALUE
		SELECT u.id, u.no, u.kind, u.origin, u.dest_kind, u.dest_site, string_to_array(u.path, ','), 'registered',
			u.cert_type, u.issuing, u.app_no, $11, $12, $12, 'register', u.origin, $12
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[]) WITH ORDINALITY
			AS u (id, no, kind, origin, dest_kind, dest_site, path, cert_type, issuing, app_no, ord)
		ORDER BY u.ord
		ON CONFLICT (origin_site, kind, application_no) WHERE application_no <> '' DO NOTHING
		RETURNING p.id`,
		ids, nos, kinds, origins, destKinds, destSites, paths, certTypes, issuing, appNos, createdBy, now)
	if err != nil {
		return nil, err
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	if len(inserted) == 0 {
		return nil, nil
	}
	in := make(map[int64]bool, len(inserted))
	for _, id := range inserted {
		in[id] = true
	}
	var (
		pid                                     []int64
		types, names, contacts, phones, idTypes []string
		idHash, idEnc                           [][]byte
		idTails, notes                          []string
		certNo, regHash, linkHash, linkEnc      [][]byte
		created                                 []string
	)
	for i, w := range ws {
		id := ids[i]
		if !in[id] {
			continue
		}
		r, ad := w.Reg, parcelAD(id)
		ap := r.Applicant
		pid = append(pid, id)
		types, names, contacts, phones = append(types, string(ap.Type)), append(names, ap.Name), append(contacts, ap.ContactName), append(phones, ap.Phone)
		idTypes, idTails, notes = append(idTypes, string(ap.IDType)), append(idTails, shipment.IDTail(ap.IDNumber, 4)), append(notes, r.Notes)
		idHash, idEnc = append(idHash, l.Keys.Hash(string(ap.IDType), ap.IDNumber)), append(idEnc, l.Keys.Encrypt([]byte(ap.IDNumber), ad))
		var cn []byte
		if r.Certificate != nil && r.Certificate.Number != "" {
			cn = l.Keys.Encrypt([]byte(r.Certificate.Number), ad)
		}
		certNo, regHash = append(certNo, cn), append(regHash, w.RegHash)
		tok := shipment.NewLinkToken()
		linkHash, linkEnc = append(linkHash, l.Keys.Hash(linkDomain, tok)), append(linkEnc, l.Keys.Encrypt([]byte(tok), linkAD(id)))
		created = append(created, nos[i])
	}
	if _, err := tx.Exec(ctx, `INSERT INTO parcel_people (parcel_id, applicant_type, name, contact_name, phone,
		id_type, id_hash, id_enc, id_tail, cert_no_enc, notes, reg_hash)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[],
			$8::bytea[], $9::text[], $10::bytea[], $11::text[], $12::bytea[])`,
		pid, types, names, contacts, phones, idTypes, idHash, idEnc, idTails, certNo, notes, regHash); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO parcel_links (parcel_id, token_hash, token_enc, created_at)
		SELECT u.id, u.h, u.e, $4::timestamptz FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u (id, h, e)`,
		pid, linkHash, linkEnc, now); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, importEventStmt, pid, createdBy, a.Role, ws[0].Source, now); err != nil {
		return nil, err
	}
	return created, nil
}

var _ service.ImportStore = (*Ledger)(nil)
