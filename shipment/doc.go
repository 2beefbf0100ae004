// Package shipment is the parcel aggregate: its kinds, states and actions, the
// action table (who may do what from which state), the pure decision function
// that applies an action to a parcel's current state, waybill numbers and the
// scanner-text parser, identity validation and the masking rules.
//
// The package holds rules, not plumbing: no database, HTTP or logging. The
// action table is also stored in the database (table transition_rules, written
// by a migration) so that set-based SQL can use it; a test keeps the two equal.
//
// # Errors
//
// Functions return *apperr.Error values whose Code is a stable reason and the
// i18n key of its message, for example "state.not_allowed", "scan.wrong_site",
// "code.mistyped".
package shipment
