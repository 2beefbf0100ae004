package postgres

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/changchun-gov/courier/internal/apperr"
)

// ErrDBUnavailable is the application error of a request that needed the
// database while it was away (stopped, restarting, unreachable): 503 with a
// Retry-After, never 500. Requests succeed again once the pool reconnects.
var ErrDBUnavailable = apperr.New(apperr.Unavailable, "service.db_unavailable")

// Unavailable returns ErrDBUnavailable wrapping err when err says the
// database cannot be reached or the connection died (see connectionLost),
// and err unchanged otherwise. translate applies it to every database error;
// the HTTP layer applies it once more to errors that reach it untranslated.
func Unavailable(err error) error {
	if err != nil && apperr.As(err) == nil && connectionLost(err) {
		return ErrDBUnavailable.Wrap(err)
	}
	return err
}

// connectionLost is the one list of the failures that mean "the database
// is away", as opposed to a bad statement or bad data:
//   - a connection attempt that failed (refused, no socket, the server
//     starting up or in crash recovery: pgconn.ConnectError);
//   - the server ending the session: admin_shutdown 57P01 (also sent when the
//     postmaster died), crash_shutdown 57P02, cannot_connect_now 57P03, and
//     the connection_exception class 08;
//   - an I/O error on a connection that died (EOF, reset, broken pipe), and
//     pgx's "conn closed" for a connection it already gave up on.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			return true
		case len(pe.Code) == 5 && pe.Code[:2] == "08":
			return true
		}
		return false
	}
	if errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}
