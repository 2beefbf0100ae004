package postgres

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/secrets"
)

// ErrKeysMismatch is returned by CheckKeys when the keys are not the ones
// the database was written with.
var ErrKeysMismatch = errors.New("the keys do not match this database")

// CheckKeys makes sure the service runs with the keys its database was
// written with. At first start it stores a check value of each key (never
// the keys); later starts compare. A database written before check values
// existed must still open with the keys: one stored ciphertext is decrypted
// before the check value is written.
//
// A lost secrets file would otherwise become new keys over an old database:
// ID numbers no longer match, stored ciphertext no longer opens.
func CheckKeys(ctx context.Context, pool *pgxpool.Pool, k *secrets.Keys, now time.Time) error {
	idCheck, dataCheck := k.Check()
	compare := func() (bool, error) {
		var storedID, storedData []byte
		err := pool.QueryRow(ctx, `SELECT id_hash_check, data_check FROM key_check`).Scan(&storedID, &storedData)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("postgres: key check: %w", err)
		}
		var wrong []string
		if !hmac.Equal(storedID, idCheck) {
			wrong = append(wrong, "COURIER_ID_HASH_KEY")
		}
		if !hmac.Equal(storedData, dataCheck) {
			wrong = append(wrong, "COURIER_DATA_KEY")
		}
		if len(wrong) > 0 {
			return true, keysMismatch(wrong)
		}
		return true, nil
	}
	if found, err := compare(); found || err != nil {
		return err
	}
	// First start with check values: the data already stored must open
	// with the data key, and its ID number must hash, under the hash key,
	// to the hash stored beside it.
	var id int64
	var idType string
	var idHash, enc []byte
	err := pool.QueryRow(ctx, `SELECT parcel_id, id_type, id_hash, id_enc FROM parcel_people WHERE purged_at IS NULL
		ORDER BY parcel_id LIMIT 1`).Scan(&id, &idType, &idHash, &enc)
	if err == nil {
		plain, derr := k.Decrypt(enc, parcelAD(id))
		if derr != nil {
			return keysMismatch([]string{"COURIER_DATA_KEY"})
		}
		if !hmac.Equal(k.Hash(idType, string(plain)), idHash) {
			return keysMismatch([]string{"COURIER_ID_HASH_KEY"})
		}
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: key check: %w", err)
	}
	// Instances starting at once: the first row wins, the others compare
	// with it (INSERT and SELECT are all the service may do here).
	if _, err := pool.Exec(ctx, `INSERT INTO key_check (id_hash_check, data_check, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, idCheck, dataCheck, now.UTC()); err != nil {
		return fmt.Errorf("postgres: key check: %w", err)
	}
	_, err = compare()
	return err
}

func keysMismatch(wrong []string) error {
	what := wrong[0] + " is not the key"
	if len(wrong) > 1 {
		what = strings.Join(wrong, " and ") + " are not the keys"
	}
	return fmt.Errorf("%w (%s it was written with): restore the secrets file (COURIER_DATA_DIR/secrets.json) "+
		"or set COURIER_ID_HASH_KEY and COURIER_DATA_KEY to the keys this database was made with; starting with "+
		"new keys would leave every stored ID number and message unreadable", ErrKeysMismatch, what)
}
