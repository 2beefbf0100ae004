package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// JobSettings lists the jobs' settings.
func (l *Ledger) JobSettings(ctx context.Context) ([]tracking.JobSetting, error) {
	rows, err := l.Pool.Query(ctx, `SELECT name, enabled, schedule, params, updated_at FROM job_settings ORDER BY name`)
	if err != nil {
		return nil, translate(err, "job")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tracking.JobSetting, error) {
		var s tracking.JobSetting
		err := r.Scan(&s.Name, &s.Enabled, &s.Schedule, &s.Params, &s.UpdatedAt)
		s.UpdatedAt = tracking.Local(s.UpdatedAt)
		return s, err
	})
	return out, translate(err, "job")
}

// jobAudit is a job's settings as the audit log keeps them.
type jobAudit struct {
	Name     string          `json:"name"`
	Enabled  bool            `json:"enabled"`
	Schedule string          `json:"schedule"`
	Params   json.RawMessage `json:"params"`
}

// SaveJobSetting changes a job's settings, their parameters checked by
// tracking.CheckJobParams (service.Settings.SaveJob), audited as by's.
// Errors: job.not_found.
func (l *Ledger) SaveJobSetting(ctx context.Context, by shipment.Actor, s tracking.JobSetting) (tracking.JobSetting, error) {
	now := l.now()
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		var before jobAudit
		err := tx.QueryRow(ctx, `SELECT name, enabled, schedule, params FROM job_settings WHERE name = $1 FOR UPDATE`, s.Name).
			Scan(&before.Name, &before.Enabled, &before.Schedule, &before.Params)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "job.not_found").With("name", s.Name)
		}
		if err != nil {
			return err
		}
		var after jobAudit
		if err := tx.QueryRow(ctx, `UPDATE job_settings SET enabled = $2, schedule = $3, params = $4, updated_at = $5
			WHERE name = $1 RETURNING name, enabled, schedule, params`, s.Name, s.Enabled, s.Schedule, s.Params, now).
			Scan(&after.Name, &after.Enabled, &after.Schedule, &after.Params); err != nil {
			return err
		}
		s.Params = after.Params
		return RecordChange(ctx, tx, now, Change{By: by, Entity: EntityJob, Key: s.Name, Before: before, After: after})
	})
	s.UpdatedAt = tracking.Local(now)
	if err != nil {
		return s, translate(err, "job")
	}
	return s, nil
}

// JobRuns lists a job's newest runs (every job's with an empty name).
func (l *Ledger) JobRuns(ctx context.Context, name string, limit int) ([]tracking.JobRun, error) {
	rows, err := l.Pool.Query(ctx, `SELECT id, name, started_at, finished_at, outcome, affected, detail, error
		FROM job_runs WHERE ($1 = '' OR name = $1) ORDER BY id DESC LIMIT $2`, name, limit)
	if err != nil {
		return nil, translate(err, "job")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tracking.JobRun, error) {
		var j tracking.JobRun
		err := r.Scan(&j.ID, &j.Name, &j.StartedAt, &j.FinishedAt, &j.Outcome, &j.Affected, &j.Detail, &j.Error)
		j.StartedAt, j.FinishedAt = tracking.Local(j.StartedAt), tracking.LocalPtr(j.FinishedAt)
		return j, err
	})
	if out == nil {
		out = []tracking.JobRun{}
	}
	return out, translate(err, "job")
}

// JobParams reads a job's parameters (zero where unset or unreadable).
// Errors: job.not_found.
func (l *Ledger) JobParams(ctx context.Context, name string) (tracking.JobParams, error) {
	var p tracking.JobParams
	var raw []byte
	err := l.Pool.QueryRow(ctx, `SELECT params FROM job_settings WHERE name = $1`, name).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "job.not_found").With("name", name)
	}
	if err != nil {
		return p, translate(err, "job")
	}
	_ = json.Unmarshal(raw, &p)
	return p, nil
}

// StartJobRun records the start of a job's run in the history.
func (l *Ledger) StartJobRun(ctx context.Context, name string) (tracking.JobRun, error) {
	run := tracking.JobRun{Name: name, StartedAt: l.now(), Outcome: "running"}
	if err := l.Pool.QueryRow(ctx, `INSERT INTO job_runs (name, started_at) VALUES ($1, $2) RETURNING id`,
		name, run.StartedAt).Scan(&run.ID); err != nil {
		return run, translate(err, "job")
	}
	return run, nil
}

// FinishJobRun records what a started run did (jerr: how it failed) and
// fills run as the history shows it, in Beijing time.
func (l *Ledger) FinishJobRun(ctx context.Context, run *tracking.JobRun, rep tracking.JobReport, jerr error) error {
	finished := l.now()
	run.FinishedAt, run.Affected, run.Outcome = &finished, rep.Affected, "ok"
	if rep.Detail == nil {
		rep.Detail = map[string]any{}
	}
	run.Detail, _ = json.Marshal(rep.Detail)
	if jerr != nil {
		run.Outcome, run.Error = "failed", truncate(jerr.Error(), 500)
	}
	if _, err := l.Pool.Exec(context.WithoutCancel(ctx), `UPDATE job_runs SET finished_at = $2, outcome = $3, affected = $4,
		detail = $5, error = $6 WHERE id = $1`, run.ID, finished, run.Outcome, run.Affected, run.Detail, run.Error); err != nil {
		return translate(err, "job")
	}
	run.StartedAt, run.FinishedAt = tracking.Local(run.StartedAt), tracking.LocalPtr(run.FinishedAt)
	return nil
}

// ClaimJobSlot claims a job's slot for every instance and, in the same
// transaction, calls then (to enqueue the job's run). A slot already
// claimed answers false and calls nothing.
func (l *Ledger) ClaimJobSlot(ctx context.Context, name string, slot time.Time, then func(ctx context.Context, tx pgx.Tx) error) (bool, error) {
	claimed := false
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO job_slots (name, slot, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			name, slot.UTC(), l.Now().UTC())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		claimed = true
		return then(ctx, tx)
	})
	return claimed && err == nil, err
}

var errNotReady = errors.New("parcel no longer ready")

// RemindReady reminds citizens of parcels ready and not collected: first
// after firstAfter, then every every. Each reminder carries a fresh
// collection code, which revokes the old one.
func (l *Ledger) RemindReady(ctx context.Context, firstAfter, every time.Duration) (tracking.JobReport, error) {
	now := l.now()
	rep := tracking.JobReport{Detail: map[string]any{}}
	var reminded []string
	for batch := 0; batch < 50; batch++ {
		rows, err := l.Pool.Query(ctx, `SELECT p.id, p.waybill_no, coalesce(p.cert_type, ''), p.path[p.path_idx + 1], p.hold_until
			FROM parcels p WHERE p.ready_at <= $1
			  AND (p.reminded_at IS NULL OR p.reminded_at <= $2) ORDER BY p.ready_at LIMIT 200`,
			now.Add(-firstAfter), now.Add(-every))
		if err != nil {
			return rep, err
		}
		type cand struct {
			id       int64
			no, ct   string
			site     string
			holdTill *time.Time
		}
		cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cand, error) {
			var c cand
			err := r.Scan(&c.id, &c.no, &c.ct, &c.site, &c.holdTill)
			return c, err
		})
		if err != nil || len(cands) == 0 {
			rep.Affected = len(reminded)
			rep.Detail["waybill_nos"] = reminded
			return rep, err
		}
		for _, c := range cands {
			remind := func(tx pgx.Tx) error {
				// A code no other ready parcel of the hall holds.
				code, err := l.freeCode(ctx, tx, c.site)
				if err != nil {
					return err
				}
				// The version moves too: a collect checking the old code at
				// this instant loses (parcel.conflict) and is scanned again.
				tag, err := tx.Exec(ctx, `UPDATE parcels SET code_hash = $2, reminded_at = $3, version = version + 1
					WHERE id = $1 AND status = 'ready'`, c.id, l.codeHash(c.site, code), now)
				if err != nil {
					return err
				}
				if tag.RowsAffected() == 0 {
					return errNotReady
				}
				seq, err := appendNote(ctx, tx, c.id, shipment.SystemActor, shipment.ActNote, shipment.SourceSchedule,
					c.site, "code_renewed", now, map[string]any{"job": tracking.JobReminder})
				if err != nil {
					return err
				}
				hall, _ := l.Ref.Site(c.site)
				ct, _ := l.Ref.CertType(c.ct)
				name := ct.NameZH
				if name == "" {
					name = "证照"
				}
				hold := ""
				if c.holdTill != nil {
					hold = tracking.Local(*c.holdTill).Format("2006-01-02")
				}
				return l.enqueue(ctx, tx, c.id, seq, outboxMessage{Template: "sms.reminder", Params: map[string]string{
					"code": code, "hall": hall.NameZH, "cert_type": name, "hold_until": hold, "waybill_no": c.no}}, now)
			}
			err := WithTx(ctx, l.Pool, remind)
			for try := 0; isUnique(err, "parcels_ready_code") && try < 5; try++ {
				err = WithTx(ctx, l.Pool, remind) // drawn at the same instant as another: draw again
			}
			if errors.Is(err, errNotReady) {
				continue // collected or returned meanwhile
			}
			if err != nil {
				return rep, err
			}
			reminded = append(reminded, c.no)
		}
		if l.Kick != nil {
			l.Kick()
		}
	}
	rep.Affected = len(reminded)
	rep.Detail["waybill_nos"] = reminded
	return rep, nil
}

// ExpiredReady lists the parcels held past their hold-until date at now,
// the longest overdue first, at most limit.
func (l *Ledger) ExpiredReady(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := l.Pool.Query(ctx, `SELECT waybill_no FROM parcels WHERE ready_at IS NOT NULL AND hold_until < $1
		ORDER BY hold_until LIMIT $2`, now, limit)
	if err != nil {
		return nil, translate(err, "parcel")
	}
	nos, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return nos, translate(err, "parcel")
}

// tellOrigin leaves a message for the staff of the parcel's origin, with
// its event, in the caller's transaction.
func (l *Ledger) tellOrigin(ctx context.Context, tx pgx.Tx, p *shipment.Parcel, template, reason string, now time.Time) error {
	seq, err := appendNote(ctx, tx, p.ID, shipment.SystemActor, shipment.ActMessageSent, shipment.SourceSchedule,
		p.OriginSite, "", now, map[string]any{"template": template, "to_site": p.OriginSite})
	if err != nil {
		return err
	}
	params := map[string]string{"waybill_no": p.WaybillNo, "reason": reason}
	plain, _ := json.Marshal(outboxMessage{Template: template, Params: params})
	_, err = tx.Exec(ctx, `INSERT INTO outbox (parcel_id, event_seq, channel, template, payload_enc, payload_masked,
		created_at, next_attempt_at, sent_at, site_code) VALUES ($1, $2, 'site', $3, $4, $5, $6, $6, $6, $7)`,
		p.ID, seq, template, l.Keys.Encrypt(plain, outboxAD(p.ID, seq)), map[string]any{"template": template, "params": params},
		now, p.OriginSite)
	return err
}

// AlertSLA flags parcels without progress for longer than the SLA of the
// leg they are on, once per stall, with a note event each.
func (l *Ledger) AlertSLA(ctx context.Context) (tracking.JobReport, error) {
	now := l.now()
	rows, err := l.Pool.Query(ctx, `WITH c AS (
		SELECT p.id, p.status, p.waybill_no, p.path[p.path_idx + 1] AS site FROM parcels p
		JOIN legs l ON l.from_site = p.path[p.path_idx + 1] AND l.to_site = p.path[p.path_idx + 2]
		WHERE p.journey_ended_at IS NULL
		  AND p.status IN ('registered', 'awaiting_pickup', 'in_transit', 'arrived', 'returning')
		  AND coalesce(p.last_progress_at, p.created_at) < $1::timestamptz - make_interval(hours => l.sla_hours)
		  AND (p.sla_alerted_at IS NULL OR p.sla_alerted_at < coalesce(p.last_progress_at, p.created_at))
		ORDER BY p.id LIMIT 10000 FOR UPDATE OF p SKIP LOCKED),
	u AS (
		UPDATE parcels p SET sla_alerted_at = $1, event_seq = event_seq + 1 FROM c WHERE p.id = c.id
		RETURNING p.id, p.event_seq, c.status, c.waybill_no, c.site),
	e AS (`+slaNoteEvents+` RETURNING 1)
	SELECT waybill_no FROM u ORDER BY 1`, now)
	if err != nil {
		return tracking.JobReport{}, err
	}
	nos, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if nos == nil {
		nos = []string{}
	}
	return tracking.JobReport{Affected: len(nos), Detail: map[string]any{"waybill_nos": nos}}, err
}

// slaNoteEvents notes on each parcel of u that it is late at u.site.
var slaNoteEvents = insertEvents("u", ev{"parcel_id": "u.id", "seq": "u.event_seq", "action": "'note'",
	"status_before": "u.status", "status_after": "u.status", "site_code": "u.site", "actor_role": "'system'",
	"source": "'schedule'", "server_time": "$1", "reason": "'sla_breached'"})

// purgeNoteEvents notes on each parcel of u that its personal data is gone.
var purgeNoteEvents = insertEvents("u", ev{"parcel_id": "u.id", "seq": "u.event_seq", "action": "'note'",
	"status_before": "u.status", "status_after": "u.status", "actor_role": "'system'", "source": "'schedule'",
	"server_time": "$2", "reason": "'personal_data_purged'"})

// PurgePersonal removes the personal data of parcels whose journey ended
// more than after ago, and the private links of those whose journey ended
// more than LinkGrace ago; the event log stays whole.
func (l *Ledger) PurgePersonal(ctx context.Context, after time.Duration) (tracking.JobReport, error) {
	now := l.now()
	var total int
	for batch := 0; batch < 100; batch++ {
		var n int
		err := l.Pool.QueryRow(ctx, `WITH c AS (
			SELECT p.id, p.status FROM parcels p JOIN parcel_people pp ON pp.parcel_id = p.id
			WHERE p.journey_ended_at < $1 AND pp.purged_at IS NULL ORDER BY p.id LIMIT 2000 FOR UPDATE OF pp SKIP LOCKED),
		h AS (DELETE FROM handover_people hp USING c WHERE hp.parcel_id = c.id),
		dc AS (DELETE FROM delivery_codes d USING c WHERE d.parcel_id = c.id),
		dp AS (DELETE FROM delivery_proofs d USING c WHERE d.parcel_id = c.id),
		pp AS (
			UPDATE parcel_people pp SET name = '', contact_name = '', phone = '', id_hash = '\x'::bytea,
				id_enc = '\x'::bytea, id_tail = '', address = NULL, cert_no_enc = NULL, notes = '', reg_hash = NULL,
				purged_at = $2
			FROM c WHERE pp.parcel_id = c.id),
		u AS (UPDATE parcels p SET event_seq = event_seq + 1 FROM c WHERE p.id = c.id RETURNING p.id, p.event_seq, c.status),
		e AS (`+purgeNoteEvents+` RETURNING 1)
		SELECT count(*) FROM e`, now.Add(-after), now).Scan(&n)
		if err != nil {
			return tracking.JobReport{Affected: total}, err
		}
		total += n
		if n == 0 {
			break
		}
	}
	// The courier's exchanges about those parcels hold their recipients.
	if _, err := l.Pool.Exec(ctx, `UPDATE courier_exchanges x SET request_enc = NULL, response_enc = NULL, purged_at = $2
		FROM parcels p WHERE p.id = x.parcel_id AND x.purged_at IS NULL AND p.journey_ended_at < $1`,
		now.Add(-after), now); err != nil {
		return tracking.JobReport{Affected: total}, translate(err, "courier_exchange")
	}
	// Import previews past their life hold rows of personal data.
	if _, err := l.Pool.Exec(ctx, `DELETE FROM import_drafts WHERE expires_at < $1`, now); err != nil {
		return tracking.JobReport{Affected: total}, translate(err, "import")
	}
	// Private links go LinkGrace after the journey ended, or with the
	// personal data when that goes first.
	tag, err := l.Pool.Exec(ctx, `DELETE FROM parcel_links pl USING parcels p
		WHERE p.id = pl.parcel_id AND p.journey_ended_at < $1`, now.Add(-min(after, LinkGrace)))
	if err != nil {
		return tracking.JobReport{Affected: total}, translate(err, "parcel")
	}
	return tracking.JobReport{Affected: total, Detail: map[string]any{"after_days": int(after.Hours() / 24),
		"links_removed": tag.RowsAffected()}}, nil
}

// SeedJobs inserts the jobs' default settings where absent.
func seedJobs(ctx context.Context, tx pgx.Tx) error {
	for _, j := range tracking.DefaultJobs {
		if _, err := tx.Exec(ctx, `INSERT INTO job_settings (name, enabled, schedule, params) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO NOTHING`, j.Name, j.Enabled, j.Schedule, j.Params); err != nil {
			return fmt.Errorf("postgres: seed jobs: %w", err)
		}
	}
	return nil
}
