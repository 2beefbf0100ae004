package postgres_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/secrets"
)

// The first start stores a check value of the keys; later starts with other
// keys are refused, naming the key that differs, and the check value stays.
func TestKeysMustMatchTheDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	k := b.ledger.Keys
	if err := postgres.CheckKeys(b.ctx, b.pool, k, now); err != nil {
		t.Fatalf("first start: %v", err)
	}
	if err := postgres.CheckKeys(b.ctx, b.pool, k, now); err != nil {
		t.Fatalf("same keys again: %v", err)
	}
	var stored []byte
	_ = b.pool.QueryRow(b.ctx, `SELECT id_hash_check || data_check FROM key_check`).Scan(&stored)
	if strings.Contains(string(stored), string(k.IDHash)) || strings.Contains(string(stored), string(k.Data)) {
		t.Fatal("a key is stored in the database")
	}
	other, _ := secrets.Generate()
	err := postgres.CheckKeys(b.ctx, b.pool, other, now)
	if !errors.Is(err, postgres.ErrKeysMismatch) || !strings.Contains(err.Error(), "(COURIER_ID_HASH_KEY and COURIER_DATA_KEY are not the keys") {
		t.Fatalf("other keys: %v", err)
	}
	half, _ := secrets.New(k.IDHash, other.Data)
	if err := postgres.CheckKeys(b.ctx, b.pool, half, now); !errors.Is(err, postgres.ErrKeysMismatch) ||
		!strings.Contains(err.Error(), "(COURIER_DATA_KEY is not the key") {
		t.Fatalf("other data key: %v", err)
	}
	if err := postgres.CheckKeys(b.ctx, b.pool, k, now); err != nil {
		t.Fatalf("the right keys after a refusal: %v", err)
	}
	var n int
	_ = b.pool.QueryRow(b.ctx, `SELECT count(*) FROM key_check`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d check rows", n)
	}
}

// A database written before check values existed: the first check value is
// stored only when the keys open what is already stored.
func TestKeysCheckedAgainstDataWrittenBeforeTheCheckValue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, certReg())
	other, _ := secrets.Generate()
	if err := postgres.CheckKeys(b.ctx, b.pool, other, time.Now()); !errors.Is(err, postgres.ErrKeysMismatch) {
		t.Fatalf("keys that do not open the stored data: %v", err)
	}
	var n int
	_ = b.pool.QueryRow(b.ctx, `SELECT count(*) FROM key_check`).Scan(&n)
	if n != 0 {
		t.Fatal("a check value was stored for keys that do not open the data")
	}
	// The right data key with another hash key: the data opens, but its ID
	// number does not hash to what is stored.
	otherHash, err := secrets.New(other.IDHash, b.ledger.Keys.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.CheckKeys(b.ctx, b.pool, otherHash, time.Now()); !errors.Is(err, postgres.ErrKeysMismatch) ||
		!strings.Contains(err.Error(), "COURIER_ID_HASH_KEY") {
		t.Fatalf("another hash key: %v", err)
	}
	if err := postgres.CheckKeys(b.ctx, b.pool, b.ledger.Keys, time.Now()); err != nil {
		t.Fatalf("the keys the data was written with: %v", err)
	}
}

// Instances making their first start at once with different keys: one set
// of keys wins, every other start is refused.
func TestKeysFirstStartsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	errs := make([]error, 6)
	done := make(chan int)
	for i := range errs {
		go func() {
			k, _ := secrets.Generate()
			errs[i] = postgres.CheckKeys(b.ctx, b.pool, k, time.Now())
			done <- i
		}()
	}
	for range errs {
		<-done
	}
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, postgres.ErrKeysMismatch) {
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d first starts with different keys accepted", ok, len(errs))
	}
}
