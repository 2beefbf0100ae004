package shipment

import (
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/changchun-gov/courier/internal/apperr"
)

// MinPasswordLen is the shortest accepted password; bcrypt reads at most
// MaxPasswordBytes.
const (
	MinPasswordLen   = 10
	MaxPasswordBytes = 72
)

//go:embed common-passwords.txt
var commonPasswordList string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonPasswordList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// CheckPassword applies the password policy: at least MinPasswordLen
// characters and at most MaxPasswordBytes bytes, not the username (in any
// case), not in the list of common passwords.
//
// Errors (invalid, on field): user.password_weak, user.password_is_username,
// user.password_common.
func CheckPassword(username, password, field string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen || len(password) > MaxPasswordBytes {
		return apperr.New(apperr.Invalid, "user.password_weak").OnField(field)
	}
	p := strings.ToLower(strings.TrimSpace(password))
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" && strings.Contains(p, u) && utf8.RuneCountInString(p) < utf8.RuneCountInString(u)+MinPasswordLen/2 {
		return apperr.New(apperr.Invalid, "user.password_is_username").OnField(field)
	}
	if commonPasswords[p] {
		return apperr.New(apperr.Invalid, "user.password_common").OnField(field)
	}
	return nil
}
