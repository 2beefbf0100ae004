package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// NewPassword makes a random password (192 bits, URL-safe base64).
func NewPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// LoadOrCreatePasswords reads the database passwords kept in path (a JSON
// object of role → password, mode 0600) and generates those of names it
// lacks, writing the file again. The embedded database's roles live there,
// next to the keys.
func LoadOrCreatePasswords(path string, names ...string) (map[string]string, error) {
	pw := map[string]string{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("secrets: read %s: %w", path, err)
	default:
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("secrets: %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
		}
		if err := json.Unmarshal(b, &pw); err != nil {
			return nil, fmt.Errorf("secrets: %s: %w", path, err)
		}
	}
	missing := false
	for _, n := range names {
		if pw[n] == "" {
			pw[n], missing = NewPassword(), true
		}
	}
	if !missing {
		return pw, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	out, _ := json.MarshalIndent(pw, "", "  ")
	f, err := os.CreateTemp(filepath.Dir(path), ".passwords-*.tmp") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	_, werr := f.Write(out)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("secrets: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("secrets: write %s: %w", path, err)
	}
	return pw, nil
}
