package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"postgres://u:p@localhost:5433/orig?sslmode=disable",
		"postgresql:///orig?host=/run/postgresql&dbname=orig",
		"host=/run/postgresql user=u dbname=orig sslmode=disable",
		"host=localhost user=u",
	} {
		out := withDatabase(in, "t_1 x")
		cfg, err := pgx.ParseConfig(out)
		if err != nil {
			t.Errorf("withDatabase(%q) = %q: %v", in, out, err)
			continue
		}
		orig, err := pgx.ParseConfig(in)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Database != "t_1 x" || cfg.Host != orig.Host || cfg.User != orig.User || cfg.Port != orig.Port {
			t.Errorf("withDatabase(%q) = %q: database %q host %q user %q port %d",
				in, out, cfg.Database, cfg.Host, cfg.User, cfg.Port)
		}
	}
}
