package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/i18n"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/tracking"
)

// exitBroken is verify's exit status when the log does not hold (1 is any
// other failure).
const exitBroken = 3

// errBroken reports a break verify found (already printed).
var errBroken = errors.New("the event log does not verify")

// verifyCmd recomputes the event log's hash chains (and the daily digests)
// and names the first break.
func verifyCmd(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var scope tracking.VerifyScope
	fs.StringVar(&scope.From, "from", "", "first day (YYYY-MM-DD, Beijing time)")
	fs.StringVar(&scope.To, "to", "", "last day (YYYY-MM-DD, Beijing time)")
	fs.StringVar(&scope.Waybill, "parcel", "", "one parcel's waybill number")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errors.New("usage: courier verify [--from YYYY-MM-DD --to YYYY-MM-DD] [--parcel WAYBILL]")
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	if _, err := postgres.CheckSchema(ctx, db.pool); err != nil {
		return err
	}
	ledger := &postgres.Ledger{Pool: db.pool, DigestKey: cfg.DigestKey}
	rep, err := ledger.Verify(ctx, scope)
	if e := apperr.As(err); e != nil {
		return fmt.Errorf("%s (%s)", i18n.MustLoad().T(i18n.Chinese, e.Code, e.Args), e.Code)
	}
	if err != nil {
		return err
	}
	if b := rep.Break; b != nil {
		fmt.Fprintf(stdout, "BROKEN: parcel %s, event %d (%s); checked %d event(s) of %d parcel(s) up to it\n",
			b.WaybillNo, b.Seq, b.Reason, rep.Events, rep.Parcels)
		return errBroken
	}
	if b := rep.DigestBreak; b != nil {
		fmt.Fprintf(stdout, "BROKEN: the digest of %s (%s); chains of %d event(s) of %d parcel(s) hold\n",
			b.Day, b.Reason, rep.Events, rep.Parcels)
		return errBroken
	}
	fmt.Fprintf(stdout, "ok: %d event(s) of %d parcel(s) and %d daily digest(s) verified\n", rep.Events, rep.Parcels, rep.Digests)
	return nil
}
