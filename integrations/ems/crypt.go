// Package ems speaks China Post EMS's open API for contract customers
// (api.ems.com.cn, ../shared/protocols/couriers.md §2): the SM4-encrypted
// form envelope, orders, the trace query, the trace push and its reply.
package ems

import (
	"bytes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	gmcipher "github.com/emmansun/gmsm/cipher"
	"github.com/emmansun/gmsm/padding"
	"github.com/emmansun/gmsm/sm4"
)

// prefix marks an SM4 envelope.
const prefix = "|$4|"

// ErrBadKey is a sign key that is not the Base64 of 16 bytes.
var ErrBadKey = errors.New("ems: the sign key is not the Base64 text of a 16-byte SM4 key")

// ErrBadEnvelope is a logitcsInterface that does not decrypt with the key.
var ErrBadEnvelope = errors.New("ems: the envelope does not decrypt with this key")

func block(signKey string) (cipher.Block, error) {
	key, err := base64.StdEncoding.DecodeString(signKey)
	if err != nil || len(key) != sm4.BlockSize {
		return nil, ErrBadKey
	}
	return sm4.NewCipher(key)
}

// Encrypt makes a logitcsInterface (§2.2): "|$4|" + Base64(SM4-ECB(key,
// PKCS#7(bizJSON + signKey))), the key text appended as its check.
func Encrypt(signKey string, bizJSON []byte) (string, error) {
	b, err := block(signKey)
	if err != nil {
		return "", err
	}
	plain := padding.NewPKCS7Padding(sm4.BlockSize).Pad(append(bytes.Clone(bizJSON), signKey...))
	out := make([]byte, len(plain))
	gmcipher.NewECBEncrypter(b).CryptBlocks(out, plain)
	return prefix + base64.StdEncoding.EncodeToString(out), nil
}

// Decrypt opens a logitcsInterface and returns the JSON inside, without the
// key text that requests append (a push may carry it too: unverified, so
// it is stripped when present).
func Decrypt(signKey, envelope string) ([]byte, error) {
	plain, _, err := open(signKey, envelope)
	return plain, err
}

// DecryptRequest opens a request's envelope as EMS does: the key text
// must end the plaintext.
func DecryptRequest(signKey, envelope string) ([]byte, error) {
	plain, keyed, err := open(signKey, envelope)
	if err == nil && !keyed {
		return nil, fmt.Errorf("%w: the plaintext does not end with the key text", ErrBadEnvelope)
	}
	return plain, err
}

func open(signKey, envelope string) ([]byte, bool, error) {
	b, err := block(signKey)
	if err != nil {
		return nil, false, err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(envelope, prefix))
	if !strings.HasPrefix(envelope, prefix) || err != nil || len(raw) == 0 || len(raw)%sm4.BlockSize != 0 {
		return nil, false, ErrBadEnvelope
	}
	plain := make([]byte, len(raw))
	gmcipher.NewECBDecrypter(b).CryptBlocks(plain, raw)
	plain, err = padding.NewPKCS7Padding(sm4.BlockSize).Unpad(plain)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrBadEnvelope, err)
	}
	keyed := bytes.HasSuffix(plain, []byte(signKey))
	return bytes.TrimSuffix(plain, []byte(signKey)), keyed, nil
}
