// Package secrets holds the service's keys and the operations on them: the
// keyed hash that matches ID numbers and collection codes without storing
// them, and the authenticated encryption of what must be kept (ID numbers
// whose digits a later step needs, message payloads).
//
// Keys come from the environment (or files it names). On the embedded
// default the service generates them once into its data directory.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of every key in bytes.
const KeySize = 32

// Keys are the service's secrets.
type Keys struct {
	IDHash []byte // HMAC-SHA256 key for ID numbers and collection codes
	Data   []byte // AES-256-GCM key for stored ciphertext
	gcm    cipher.AEAD
}

// New checks the keys and prepares the cipher.
func New(idHash, data []byte) (*Keys, error) {
	if len(idHash) != KeySize || len(data) != KeySize {
		return nil, fmt.Errorf("secrets: keys must be %d bytes", KeySize)
	}
	if hmac.Equal(idHash, data) {
		return nil, errors.New("secrets: the hash key and the data key must differ")
	}
	block, err := aes.NewCipher(data)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Keys{IDHash: idHash, Data: data, gcm: gcm}, nil
}

// ParseKey reads a key written as 64 hex digits or as standard base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	return nil, fmt.Errorf("a key is %d bytes written as 64 hex digits or base64", KeySize)
}

// Generate makes fresh random keys.
func Generate() (*Keys, error) {
	a, b := make([]byte, KeySize), make([]byte, KeySize)
	if _, err := rand.Read(a); err != nil {
		return nil, err
	}
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return New(a, b)
}

type fileKeys struct {
	IDHashKey string `json:"id_hash_key"`
	DataKey   string `json:"data_key"`
}

// LoadOrCreate reads the keys kept in path, or generates them and writes the
// file (mode 0600) when it does not exist. created reports the latter.
func LoadOrCreate(path string) (k *Keys, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = Generate()
		if err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, false, fmt.Errorf("secrets: %w", err)
		}
		out, _ := json.MarshalIndent(fileKeys{hex.EncodeToString(k.IDHash), hex.EncodeToString(k.Data)}, "", "  ")
		f, err := os.CreateTemp(filepath.Dir(path), ".secrets-*.tmp") // new file, mode 0600
		if err != nil {
			return nil, false, fmt.Errorf("secrets: %w", err)
		}
		tmp := f.Name()
		if _, err := f.Write(out); err != nil {
			f.Close()
			os.Remove(tmp)
			return nil, false, fmt.Errorf("secrets: write %s: %w", tmp, err)
		}
		if err := f.Close(); err != nil {
			os.Remove(tmp)
			return nil, false, fmt.Errorf("secrets: write %s: %w", tmp, err)
		}
		// Link, not rename: when two instances race, the first file wins and both use it.
		if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
			os.Remove(tmp)
			return nil, false, fmt.Errorf("secrets: write %s: %w", path, err)
		} else if err == nil {
			os.Remove(tmp)
			return k, true, nil
		}
		os.Remove(tmp)
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("secrets: read %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("secrets: %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	var fk fileKeys
	if err := json.Unmarshal(b, &fk); err != nil {
		return nil, false, fmt.Errorf("secrets: %s: %w", path, err)
	}
	a, err := ParseKey(fk.IDHashKey)
	if err != nil {
		return nil, false, fmt.Errorf("secrets: %s: id_hash_key: %w", path, err)
	}
	d, err := ParseKey(fk.DataKey)
	if err != nil {
		return nil, false, fmt.Errorf("secrets: %s: data_key: %w", path, err)
	}
	k, err = New(a, d)
	return k, false, err
}

// Hash is the keyed hash of a value in a domain ("resident_id", "code:CP…"),
// so equal values in different domains hash differently.
func (k *Keys) Hash(domain, value string) []byte {
	m := hmac.New(sha256.New, k.IDHash)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// Encrypt seals plaintext with a random nonce; additional binds the
// ciphertext to its context (a parcel id), so it cannot be moved elsewhere.
func (k *Keys) Encrypt(plaintext, additional []byte) []byte {
	nonce := make([]byte, k.gcm.NonceSize(), k.gcm.NonceSize()+len(plaintext)+k.gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("secrets: no randomness: " + err.Error())
	}
	return k.gcm.Seal(nonce, nonce, plaintext, additional)
}

// Decrypt opens what Encrypt sealed.
func (k *Keys) Decrypt(ciphertext, additional []byte) ([]byte, error) {
	n := k.gcm.NonceSize()
	if len(ciphertext) < n+k.gcm.Overhead() {
		return nil, errors.New("secrets: ciphertext too short")
	}
	return k.gcm.Open(nil, ciphertext[:n], ciphertext[n:], additional)
}

// checkLabel is what the check values are computed over.
const checkLabel = "courier key check v1"

// Check returns a check value of each key: an HMAC-SHA256 of a fixed label
// under the key. Stored beside the data, it tells the keys the data was
// written with from others without revealing them.
func (k *Keys) Check() (idHash, data []byte) {
	sum := func(key []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(checkLabel))
		return m.Sum(nil)
	}
	return sum(k.IDHash), sum(k.Data)
}
