package postgres

import (
	"fmt"
	"strings"
)

// eventCols is the column list of every statement that appends to events:
// each names every column, in this order, and supplies each value (those it
// does not set as eventNone has them), so the log is written one way. The
// hash is not among them: the BEFORE INSERT trigger of migration 00005
// (events_chain) is its only author.
const eventCols = `parcel_id, seq, action, status_before, status_after, site_code, actor_id, actor_role, source, ` +
	`device, scan_id, device_time, server_time, run_id, bag_id, leg_id, reason, detail`

// eventNone is the value of a column a statement does not set: the column's
// default (migration 00001). Columns not listed must be set.
var eventNone = map[string]string{
	"status_before": "NULL", "site_code": "''", "actor_id": "NULL", "device": "''", "scan_id": "NULL",
	"device_time": "NULL", "run_id": "NULL", "bag_id": "NULL", "leg_id": "NULL", "reason": "''",
	"detail": "'{}'::jsonb",
}

// eventTypes are the types of the columns of events that are not text.
var eventTypes = map[string]string{"parcel_id": "bigint", "seq": "int", "actor_id": "bigint",
	"device_time": "timestamptz", "server_time": "timestamptz", "detail": "jsonb"}

// eventHashExpr is the SQL of the hash an event of set (its columns as
// insertEvents takes them) gets, chained to prev: the encoding of migration
// 00005 (internal/ledgercheck documents it), written out inline as the
// chain trigger has it (migration 00012). A statement that updates the
// parcel with its event sets parcels.head_hash with it, so the head needs
// no second update of the row; the trigger still writes the event's hash
// and corrects any head that differs.
func eventHashExpr(set ev, prev string) string {
	field := func(t string) string {
		return "CASE WHEN " + t + " IS NULL THEN '\\x00'::bytea ELSE '\\x01'::bytea || int4send(octet_length(convert_to(" + t +
			", 'UTF8'))) || convert_to(" + t + ", 'UTF8') END"
	}
	parts := []string{"convert_to('courier.event.v1', 'UTF8')"}
	for _, c := range strings.Split(eventCols, ", ") {
		v, ok := set[c]
		if !ok {
			v = eventNone[c]
		}
		typ := eventTypes[c]
		switch typ {
		case "timestamptz":
			parts = append(parts, field("(extract(epoch FROM ("+v+")::timestamptz) * 1000000)::bigint::text"))
		case "":
			parts = append(parts, field("("+v+")::text"))
		default:
			parts = append(parts, field("(("+v+")::"+typ+")::text"))
		}
	}
	parts = append(parts, "CASE WHEN "+prev+" IS NULL THEN '\\x00'::bytea ELSE '\\x01'::bytea || int4send(length("+prev+")) || "+prev+" END")
	return "sha256(" + strings.Join(parts, "\n\t\t|| ") + ")"
}

// ev gives the SQL expression of each column of events a statement sets,
// over the statement's parameters and the rows it appends from.
type ev map[string]string

// insertEvents is the one way an event is written: an INSERT into events of
// eventCols, one event per row of from (a CTE of the statement), or one
// event of VALUES when from is empty. Set-based statements stay set-based.
// A column set that events does not have, or a required one left out,
// panics when the package loads.
func insertEvents(from string, set ev) string {
	cols := strings.Split(eventCols, ", ")
	vals := make([]string, len(cols))
	for i, c := range cols {
		v, ok := set[c]
		if !ok {
			v, ok = eventNone[c]
		}
		if !ok {
			panic(fmt.Sprintf("postgres: an insert into events leaves %s out", c))
		}
		vals[i] = v
	}
	for c := range set {
		if !strings.Contains(", "+eventCols+", ", ", "+c+", ") {
			panic(fmt.Sprintf("postgres: events has no column %s", c))
		}
	}
	if from == "" {
		return "INSERT INTO events (" + eventCols + ")\n\tVALUES (" + strings.Join(vals, ", ") + ")"
	}
	return "INSERT INTO events (" + eventCols + ")\n\tSELECT " + strings.Join(vals, ", ") + " FROM " + from
}

// The statements that append one event of VALUES.
var (
	// registerEventStmt is a parcel's first event.
	registerEventStmt = insertEvents("", ev{"parcel_id": "$1", "seq": "1", "action": "'register'",
		"status_after": "'registered'", "site_code": "$2", "actor_id": "$3", "actor_role": "$4", "source": "$5",
		"server_time": "$6"})
	// noteEventStmt is an event that changes no state (label printed,
	// message sent, note).
	noteEventStmt = insertEvents("", ev{"parcel_id": "$1", "seq": "$2", "action": "$3", "status_before": "$4",
		"status_after": "$4", "site_code": "$5", "actor_id": "$6", "actor_role": "$7", "source": "$8",
		"server_time": "$9", "detail": "$10", "reason": "$11"})
)
