package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/secrets"
	"github.com/changchun-gov/courier/shipment"
)

// A city's year of parcels for the benchmarks (the desk's lists on
// 1,000,000 parcels and about 8,000,000 events): certificates from the
// departments to the halls (the county halls through the city hub) and
// application materials the other way, registered evenly over the year,
// each with its people and its events up to the state it reached — most
// collected, some returned or cancelled, the last weeks' still moving or
// on the shelf. Every event goes through insertEvents, so the chain
// triggers hash it as they hash the service's own.
//
// The generated people are fictitious; their ID numbers are kept as the
// keyed hash of one test number (no ciphertext: they are never revealed).

// GenerateOptions sizes a generated year.
type GenerateOptions struct {
	Parcels int       // parcels in all
	End     time.Time // the last registration; the year runs up to it
	Chunk   int       // parcels per transaction (0: 5,000)
	Workers int       // transactions at once (0: 2)
	// Progress, if set, is told how many parcels are written so far.
	Progress func(done int)
}

// genStep is one event of a generated journey: the action, the states
// before and after, and where (o origin, h hub, d destination).
type genStep struct {
	action, before, after string
	at                    byte
}

// genJourney lists the events of a parcel that reached status, through
// the hub or not.
func genJourney(status shipment.Status, hub bool) []genStep {
	s := []genStep{{"register", "", "registered", 'o'}}
	if status == shipment.Cancelled {
		return append(s, genStep{"cancel", "registered", "cancelled", 'o'})
	}
	if status == shipment.Registered {
		return s
	}
	s = append(s, genStep{"book", "registered", "awaiting_pickup", 'o'})
	if status == shipment.AwaitingPickup {
		return s
	}
	s = append(s, genStep{"pickup", "awaiting_pickup", "in_transit", 'o'})
	if hub && status != shipment.InTransit && status != shipment.Exception {
		s = append(s, genStep{"receive", "in_transit", "arrived", 'h'}, genStep{"book", "arrived", "awaiting_pickup", 'h'},
			genStep{"pickup", "awaiting_pickup", "in_transit", 'h'})
	}
	switch status {
	case shipment.InTransit:
		return s
	case shipment.Exception:
		return append(s, genStep{"report", "in_transit", "exception", 'd'})
	}
	s = append(s, genStep{"receive", "in_transit", "arrived", 'd'})
	if status == shipment.Arrived {
		return s
	}
	s = append(s, genStep{"shelve", "arrived", "ready", 'd'}, genStep{"message_sent", "ready", "ready", 'd'})
	switch status {
	case shipment.Collected:
		return append(s, genStep{"collect", "ready", "collected", 'd'})
	case shipment.Returning:
		return append(s, genStep{"return", "ready", "returning", 'd'})
	case shipment.Returned:
		return append(s, genStep{"return", "ready", "returning", 'd'}, genStep{"book", "returning", "returning", 'd'},
			genStep{"pickup", "returning", "returning", 'd'}, genStep{"receive", "returning", "returned", 'o'})
	}
	return s
}

// genStatus is where parcel i of a year ends, by its age.
func genStatus(i int, age time.Duration) shipment.Status {
	h := (i * 7919) % 100
	day := 24 * time.Hour
	switch {
	case age > 35*day:
		switch {
		case h < 93:
			return shipment.Collected
		case h < 97:
			return shipment.Returned
		case h < 99:
			return shipment.Cancelled
		}
		return shipment.Collected
	case age > 3*day:
		switch {
		case h < 70:
			return shipment.Collected
		case h < 94:
			return shipment.Ready
		case h < 97:
			return shipment.Returning
		}
		return shipment.Exception
	}
	switch {
	case h < 20:
		return shipment.Registered
	case h < 40:
		return shipment.AwaitingPickup
	case h < 60:
		return shipment.InTransit
	case h < 70:
		return shipment.Arrived
	case h < 85:
		return shipment.Ready
	}
	return shipment.Collected
}

var genSurnames = []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
var genGiven = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"}

// genInsertParcels writes a chunk's parcels from arrays (one row each,
// in order) and answers their ids in the same order.
const genInsertParcels = `INSERT INTO parcels AS p (waybill_no, kind, origin_site, dest_kind, dest_site, path, path_idx,
	leg_moving, status, prev_status, cert_type, issuing_dept, application_no, created_at, updated_at, version, event_seq,
	ready_since, hold_until, code_hash, last_action, last_site, last_at, journey_ended_at, slot)
	SELECT u.no, u.kind, u.origin, CASE WHEN u.kind = 'certificate' THEN 'hall' ELSE 'department' END, u.dest,
		string_to_array(u.path, ','), u.idx, u.moving, u.status, nullif(u.prev, ''),
		CASE WHEN u.kind = 'certificate' THEN 'business_licence' END, CASE WHEN u.kind = 'certificate' THEN u.origin END,
		u.app, u.created, u.last_at, u.events, u.events,
		CASE WHEN u.status = 'ready' THEN u.last_at END, CASE WHEN u.status = 'ready' THEN u.last_at + interval '30 days' END,
		CASE WHEN u.status = 'ready' THEN decode(md5(u.no), 'hex') END,
		u.last_action, u.last_site, u.last_at,
		CASE WHEN u.status IN ('collected', 'returned', 'cancelled') THEN u.last_at END,
		CASE WHEN u.status = 'ready' THEN 'A-01' END
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bool[], $8::text[], $9::text[],
		$10::text[], $11::timestamptz[], $12::timestamptz[], $13::int[], $14::text[], $15::text[])
		WITH ORDINALITY AS u (no, kind, origin, dest, path, idx, moving, status, prev, app, created, last_at, events,
			last_action, last_site, ord)
	ORDER BY u.ord
	RETURNING p.id`

// genEvents appends a chunk's events from arrays, one row per event in
// order of parcel and seq: the chain triggers hash each.
var genEvents = insertEvents(`unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
	WITH ORDINALITY AS u (parcel_id, seq, action, before, after, site, at, ord) ORDER BY u.ord`, ev{
	"parcel_id": "u.parcel_id", "seq": "u.seq", "action": "u.action", "status_before": "nullif(u.before, '')",
	"status_after": "u.after", "site_code": "u.site", "actor_role": "CASE WHEN u.action IN ('pickup') THEN 'courier' " +
		"WHEN u.action = 'message_sent' THEN 'system' WHEN u.action IN ('register', 'book', 'cancel') THEN 'clerk' ELSE 'staff' END",
	"source": "CASE WHEN u.action = 'message_sent' THEN 'schedule' ELSE 'scan' END", "server_time": "u.at"})

// GenerateYear fills the database with a year of parcels (see above).
// Run on a migrated database with the reference data; it adds to what is
// there.
func GenerateYear(ctx context.Context, pool *pgxpool.Pool, keys *secrets.Keys, o GenerateOptions) error {
	if o.Chunk <= 0 {
		o.Chunk = 5000
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	o.End = o.End.UTC().Truncate(time.Microsecond)
	idHash := keys.Hash(string(shipment.IDResident), "11010519491231002X")
	depts := []string{"D-SW", "D-HB", "D-GT", "D-GS", "D-NS", "D-LY", "D-AJ"}
	halls := []string{"CC-WIN", "ED-HALL", "NG-HALL", "NA-HALL", "JY-HALL", "DH-HALL", "YS-HALL"}
	step := 365 * 24 * time.Hour / time.Duration(max(o.Parcels, 1))
	chunks := make(chan int)
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, o.Workers)
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range chunks {
				n := min(o.Chunk, o.Parcels-first)
				if err := genChunk(ctx, pool, idHash, depts, halls, o.End, step, o.Parcels, first, n); err != nil {
					errs <- err
					return
				}
				if d := done.Add(int64(n)); o.Progress != nil {
					o.Progress(int(d))
				}
			}
		}()
	}
	var err error
feed:
	for first := 0; first < o.Parcels; first += o.Chunk {
		select {
		case chunks <- first:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(chunks)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

func genChunk(ctx context.Context, pool *pgxpool.Pool, idHash []byte, depts, halls []string, end time.Time,
	step time.Duration, total, first, n int) error {
	var (
		nos, kinds, origins, dests, paths, statuses, prevs, apps, lastActions, lastSites []string
		idxs, events                                                                     []int
		moving                                                                           []bool
		created, lastAt                                                                  []time.Time
		journeys                                                                         [][]genStep
		sites                                                                            [][3]string
		names, phones                                                                    []string
	)
	for i := first; i < first+n; i++ {
		at := end.Add(-time.Duration(total-1-i) * step)
		kind, origin, dest := "certificate", depts[i%len(depts)], halls[(i/len(depts))%len(halls)]
		if i%7 == 3 { // application materials, from a hall to a department
			kind, origin, dest = "materials", halls[i%len(halls)], depts[(i/len(halls))%len(depts)]
		}
		hub := kind == "certificate" && dest != "CC-WIN" || kind == "materials" && origin != "CC-WIN"
		fwd := []string{origin, dest}
		if hub {
			fwd = []string{origin, "CC-HUB", dest}
		}
		st := genStatus(i, end.Sub(at))
		js := genJourney(st, hub)
		path, idx, mv, prev := fwd, 0, false, ""
		switch st {
		case shipment.InTransit:
			mv = true
		case shipment.Exception:
			mv, prev = true, "in_transit"
		case shipment.Arrived, shipment.Ready, shipment.Collected:
			idx = len(fwd) - 1
		case shipment.Returning, shipment.Returned:
			path = []string{dest, origin}
			if st == shipment.Returned {
				idx = 1
			}
		}
		// Events an hour apart from the registration, at most up to now.
		last := at.Add(time.Duration(len(js)-1) * time.Hour)
		if last.After(end) {
			last = end
		}
		siteOf := [3]string{origin, "CC-HUB", dest}
		lastStep := js[len(js)-1]
		nos = append(nos, shipment.NewNumber(shipment.KindParcel))
		kinds, origins, dests = append(kinds, kind), append(origins, origin), append(dests, dest)
		paths, idxs, moving = append(paths, strings.Join(path, ",")), append(idxs, idx), append(moving, mv)
		statuses, prevs = append(statuses, string(st)), append(prevs, prev)
		apps = append(apps, fmt.Sprintf("%s-%d-%07d", origin, at.Year(), i))
		created, lastAt, events = append(created, at), append(lastAt, last), append(events, len(js))
		lastActions, lastSites = append(lastActions, lastStep.action), append(lastSites, genSite(siteOf, lastStep.at))
		journeys, sites = append(journeys, js), append(sites, siteOf)
		names = append(names, string(genSurnames[i%len(genSurnames)])+genGiven[(i/len(genSurnames))%len(genGiven)])
		phones = append(phones, fmt.Sprintf("139%08d", i%100000000))
	}
	for attempt := 0; ; attempt++ {
		err := genWrite(ctx, pool, idHash, nos, kinds, origins, dests, paths, idxs, moving, statuses, prevs, apps,
			created, lastAt, events, lastActions, lastSites, names, phones, journeys, sites)
		if !isUnique(err, "parcels_waybill_no_key") || attempt == 5 {
			return err
		}
		for i := range nos { // a random number collided: draw the chunk's again
			nos[i] = shipment.NewNumber(shipment.KindParcel)
		}
	}
}

func genWrite(ctx context.Context, pool *pgxpool.Pool, idHash []byte, nos, kinds, origins, dests, paths []string, idxs []int,
	moving []bool, statuses, prevs, apps []string, created, lastAt []time.Time, events []int, lastActions, lastSites,
	names, phones []string, journeys [][]genStep, sites [][3]string) error {
	return WithTx(ctx, pool, func(tx pgx.Tx) error {
		// A chunk writes tens of thousands of rows through the chain's
		// triggers: on a busy machine longer than the service's 30 s.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, genInsertParcels, nos, kinds, origins, dests, paths, idxs, moving, statuses, prevs,
			apps, created, lastAt, events, lastActions, lastSites)
		if err != nil {
			return fmt.Errorf("generate: parcels: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("generate: parcels: %w", err)
		}
		tails := make([]string, len(ids))
		for i := range tails {
			tails[i] = "002X"
		}
		if _, err := tx.Exec(ctx, `INSERT INTO parcel_people (parcel_id, applicant_type, name, phone, id_type, id_hash,
			id_enc, id_tail) SELECT u.id, 'natural', u.name, u.phone, 'resident_id', $4, '\x'::bytea, u.tail
			FROM unnest($1::bigint[], $2::text[], $3::text[], $5::text[]) AS u (id, name, phone, tail)`,
			ids, names, phones, idHash, tails); err != nil {
			return fmt.Errorf("generate: people: %w", err)
		}
		var pid []int64
		var seq []int
		var act, before, after, site []string
		var at []time.Time
		for i, id := range ids {
			for k, s := range journeys[i] {
				t := created[i].Add(time.Duration(k) * time.Hour)
				if t.After(lastAt[i]) {
					t = lastAt[i]
				}
				pid, seq, act = append(pid, id), append(seq, k+1), append(act, s.action)
				before, after, site = append(before, s.before), append(after, s.after), append(site, genSite(sites[i], s.at))
				at = append(at, t)
			}
		}
		if _, err := tx.Exec(ctx, genEvents, pid, seq, act, before, after, site, at); err != nil {
			return fmt.Errorf("generate: events: %w", err)
		}
		return nil
	})
}

func genSite(s [3]string, at byte) string {
	switch at {
	case 'h':
		return s[1]
	case 'd':
		return s[2]
	}
	return s[0]
}
