package postgres_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/postgres"
)

// Every statement of the adapter that appends to events goes through
// insertEvents, in events.go: no other file writes its own INSERT.
func TestEventsAreWrittenOneWay(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "events.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(strings.ToUpper(string(b)), "INSERT INTO EVENTS"); n > 0 {
			t.Errorf("%s writes %d events of its own: use insertEvents", f, n)
		}
	}
}

// The one column list is every column of events but the hash, which only
// the trigger writes, in the table's order.
func TestEventColsAreTheTable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var cols string
	if err := b.pool.QueryRow(b.ctx, `SELECT string_agg(column_name, ', ' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'events'
		AND column_name <> 'hash'`).Scan(&cols); err != nil {
		t.Fatal(err)
	}
	if cols != postgres.EventCols {
		t.Fatalf("events has %q,\nthe statements write %q", cols, postgres.EventCols)
	}
}

// A statement that leaves a required column out, or names one events does
// not have, is refused when it is built.
func TestInsertEventsRefusesWhatIsNotTheLog(t *testing.T) {
	full := map[string]string{"parcel_id": "$1", "seq": "$2", "action": "'note'", "status_after": "$3",
		"actor_role": "'system'", "source": "'schedule'", "server_time": "$4"}
	if got := postgres.InsertEvents("u", full); !strings.HasPrefix(got, "INSERT INTO events ("+postgres.EventCols+")") ||
		!strings.HasSuffix(got, " FROM u") || !strings.Contains(got, "'{}'::jsonb") {
		t.Fatalf("statement %q", got)
	}
	for name, set := range map[string]map[string]string{
		"no seq":      without(full, "seq"),
		"a hash":      with(full, "hash", "$5"),
		"no such one": with(full, "colour", "'red'"),
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: built", name)
				}
			}()
			postgres.InsertEvents("", set)
		}()
	}
}

func without(m map[string]string, k string) map[string]string {
	out := map[string]string{}
	for c, v := range m {
		if c != k {
			out[c] = v
		}
	}
	return out
}

func with(m map[string]string, k, v string) map[string]string {
	out := without(m, k)
	out[k] = v
	return out
}
