package pgtest_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Configure(func(ctx context.Context, conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, `
			CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);
			INSERT INTO item VALUES (1, 'seed');`); err != nil {
			return err
		}
		// Leave a second connection to the template open on purpose: pgtest
		// must still be able to clone it (no SQLSTATE 55006).
		_, err := pgx.ConnectConfig(ctx, conn.Config())
		return err
	})
	os.Exit(pgtest.Main(m))
}

func itemIDs(t *testing.T, pool *pgxpool.Pool) []int {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT id FROM item ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestDB(t *testing.T) {
	t.Parallel()

	t.Run("SeededFromTemplate", func(t *testing.T) {
		t.Parallel()
		if ids := itemIDs(t, pgtest.Pool(t)); fmt.Sprint(ids) != "[1]" {
			t.Errorf("item ids = %v, want [1]", ids)
		}
	})

	t.Run("WriteLeavesOtherUntouched", func(t *testing.T) {
		t.Parallel()
		a, b := pgtest.Pool(t), pgtest.Pool(t)
		ctx := context.Background()
		if _, err := a.Exec(ctx, "DELETE FROM item; INSERT INTO item VALUES (2, 'a')"); err != nil {
			t.Fatal(err)
		}
		if ids := itemIDs(t, a); fmt.Sprint(ids) != "[2]" {
			t.Errorf("written database: item ids = %v, want [2]", ids)
		}
		if ids := itemIDs(t, b); fmt.Sprint(ids) != "[1]" {
			t.Errorf("other database: item ids = %v, want [1]", ids)
		}
	})

	// Parallel clones, each writing: every test sees the seed and its own
	// row only.
	for i := range 8 {
		t.Run(fmt.Sprintf("ParallelClone%d", i), func(t *testing.T) {
			t.Parallel()
			pool := pgtest.Pool(t)
			id := 100 + i
			if _, err := pool.Exec(context.Background(), "INSERT INTO item VALUES ($1, 'mine')", id); err != nil {
				t.Fatal(err)
			}
			if ids, want := itemIDs(t, pool), fmt.Sprint([]int{1, id}); fmt.Sprint(ids) != want {
				t.Errorf("item ids = %v, want %s", ids, want)
			}
		})
	}

	t.Run("DroppedAfterTest", func(t *testing.T) {
		t.Parallel()
		var name string
		t.Run("Inner", func(t *testing.T) {
			cfg, err := pgx.ParseConfig(pgtest.DB(t))
			if err != nil {
				t.Fatal(err)
			}
			name = cfg.Database
		})
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, pgtest.AdminConnString(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if name == "" || n != 0 {
			t.Errorf("database %q still exists after its test", name)
		}
	})
}

func TestServer(t *testing.T) {
	t.Parallel()
	c := pgtest.Server(t)
	if shared := os.Getenv(pgtest.EnvURL) != ""; shared != (c == nil) {
		t.Errorf("Server() = %v with %s set = %v", c, pgtest.EnvURL, shared)
	}
	conn, err := pgx.Connect(context.Background(), pgtest.AdminConnString(t))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
}
