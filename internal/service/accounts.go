package service

import (
	"context"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// AccountStore keeps user accounts and their tokens: hashing, locking and
// the audit record of each change stay there.
type AccountStore interface {
	// CreateUser adds an account checked by CheckNewUser, audited as by's.
	// Errors: user.exists (conflict).
	CreateUser(ctx context.Context, by shipment.Actor, n shipment.NewUser) (shipment.User, error)
	// UpdateUser locks the account (and first every active administrator
	// when lockAdmins is set, so that two of them cannot take each other's
	// rights at once), asks change for the account as it should be, given
	// the account as stored and how many other active administrators
	// there are, and writes that, audited as by's. Disabling ends the
	// account's tokens. Errors: user.not_found, those of change.
	UpdateUser(ctx context.Context, by shipment.Actor, username string, lockAdmins bool,
		change func(cur shipment.User, otherAdmins int) (shipment.User, error)) (shipment.User, error)
	List(ctx context.Context) ([]shipment.User, error)
	// IssueToken checks a username and password and, once the password
	// matched, asks decide whether the sign-in goes on and whether
	// newPassword becomes the password; then it issues a token. Errors:
	// auth.bad_credentials, those of decide.
	IssueToken(ctx context.Context, username, password, newPassword string,
		decide func(shipment.SignIn) (setPassword bool, err error)) (string, time.Time, error)
	ActorByToken(ctx context.Context, token string) (shipment.Actor, error)
	// StartSession is IssueToken for a browser: a session token that ends
	// after life, or after idle without use.
	StartSession(ctx context.Context, username, password, newPassword string, life, idle time.Duration,
		decide func(shipment.SignIn) (setPassword bool, err error)) (string, time.Time, error)
	// ActorBySession resolves a session and keeps it for idle more.
	// Errors: auth.session_ended, auth.user_disabled.
	ActorBySession(ctx context.Context, token string, idle time.Duration) (shipment.Actor, error)
	RevokeToken(ctx context.Context, token string) error
	ResetPassword(ctx context.Context, by shipment.Actor, username string) (string, error)
	ChangePassword(ctx context.Context, a shipment.Actor, keepToken, current, password string) error
}

// SiteKinds answers which sites exist, and of what kind.
type SiteKinds interface {
	SiteKind(code string) (shipment.SiteKind, bool)
}

// Accounts is the administration of user accounts, and everyone's own
// password: the rules of an administrator's edit (shipment.CheckNewUser,
// CheckRole, ApplyUserChange) are applied here; the store keeps the
// accounts, and checks a new password (shipment.CheckPassword) once the
// old one matched.
type Accounts struct {
	Store AccountStore
	Sites SiteKinds
	// A browser session ends SessionLife after sign-in, or after
	// SessionIdle without use (DefaultSessionLife, DefaultSessionIdle when
	// zero).
	SessionLife, SessionIdle time.Duration
}

// The default lengths of a browser session: a long shift with its breaks,
// and a lunch hour away from the counter.
const (
	DefaultSessionLife = 12 * time.Hour
	DefaultSessionIdle = 2 * time.Hour
)

func (s *Accounts) sessionLengths() (life, idle time.Duration) {
	life, idle = s.SessionLife, s.SessionIdle
	if life <= 0 {
		life = DefaultSessionLife
	}
	if idle <= 0 {
		idle = DefaultSessionIdle
	}
	return life, min(idle, life)
}

// StartSession signs in a browser, with the rules of IssueToken.
func (s *Accounts) StartSession(ctx context.Context, username, password, newPassword string) (string, time.Time, error) {
	life, idle := s.sessionLengths()
	return s.Store.StartSession(ctx, username, password, newPassword, life, idle, func(in shipment.SignIn) (bool, error) {
		return shipment.DecideSignIn(in, newPassword)
	})
}

// ActorBySession resolves a browser session and keeps it alive.
func (s *Accounts) ActorBySession(ctx context.Context, token string) (shipment.Actor, error) {
	_, idle := s.sessionLengths()
	return s.Store.ActorBySession(ctx, token, idle)
}

// CreateBy adds an account. Errors: user.* and site.unknown (invalid),
// user.exists (conflict).
func (s *Accounts) CreateBy(ctx context.Context, by shipment.Actor, n shipment.NewUser) (shipment.User, error) {
	if err := shipment.CheckNewUser(&n, s.Sites.SiteKind); err != nil {
		return shipment.User{}, err
	}
	return s.Store.CreateUser(ctx, by, n)
}

// Update disables, enables, or changes the role, site and departments of
// an account; the last active administrator keeps the rights.
//
// Errors: user.nothing_to_change, the codes of shipment.CheckRole
// (invalid); user.not_found; user.last_admin (conflict).
func (s *Accounts) Update(ctx context.Context, by shipment.Actor, username string, ch shipment.UserChange) (shipment.User, error) {
	if ch.Empty() {
		return shipment.User{}, apperr.New(apperr.Invalid, "user.nothing_to_change")
	}
	return s.Store.UpdateUser(ctx, by, shipment.NormalUsername(username), ch.TakesAdmin(),
		func(cur shipment.User, otherAdmins int) (shipment.User, error) {
			return shipment.ApplyUserChange(cur, ch, otherAdmins, s.Sites.SiteKind)
		})
}

// IssueToken signs in; newPassword, when set, becomes the password (after a
// reset it must be), checked by shipment.CheckPassword once the password
// matched (so a wrong password is told before a weak new one).
func (s *Accounts) IssueToken(ctx context.Context, username, password, newPassword string) (string, time.Time, error) {
	return s.Store.IssueToken(ctx, username, password, newPassword, func(in shipment.SignIn) (bool, error) {
		return shipment.DecideSignIn(in, newPassword)
	})
}

// ChangePassword sets the actor's own password once the current one
// matched, checked by shipment.CheckPassword; keepToken stays valid, the
// actor's other tokens end.
func (s *Accounts) ChangePassword(ctx context.Context, a shipment.Actor, keepToken, current, password string) error {
	return s.Store.ChangePassword(ctx, a, keepToken, current, password)
}

// List lists the accounts.
func (s *Accounts) List(ctx context.Context) ([]shipment.User, error) { return s.Store.List(ctx) }

// ActorByToken resolves a bearer token.
func (s *Accounts) ActorByToken(ctx context.Context, token string) (shipment.Actor, error) {
	return s.Store.ActorByToken(ctx, token)
}

// RevokeToken ends a token.
func (s *Accounts) RevokeToken(ctx context.Context, token string) error {
	return s.Store.RevokeToken(ctx, token)
}

// ResetPassword gives an account a temporary password its user must
// replace, and ends its tokens.
func (s *Accounts) ResetPassword(ctx context.Context, by shipment.Actor, username string) (string, error) {
	return s.Store.ResetPassword(ctx, by, username)
}
