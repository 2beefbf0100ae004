package service

import (
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Photos are told by their bytes: JPEG, PNG and WebP are taken, whatever
// the name says; anything else, or too large, is refused.
func TestCheckPhoto(t *testing.T) {
	webp := append([]byte("RIFF\x10\x00\x00\x00WEBPVP8 "), make([]byte, 16)...)
	for name, c := range map[string]struct {
		b         []byte
		typ, code string
	}{
		"jpeg":      {[]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, "image/jpeg", ""},
		"png":       {[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png", ""},
		"webp":      {webp, "image/webp", ""},
		"riff wav":  {append([]byte("RIFF\x10\x00\x00\x00WAVEfmt "), make([]byte, 16)...), "", "proxy.photo_type"},
		"pdf":       {[]byte("%PDF-1.7"), "", "proxy.photo_type"},
		"gif":       {[]byte("GIF89a"), "", "proxy.photo_type"},
		"too large": {append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, MaxPhotoBytes)...), "", "proxy.photo_too_large"},
		"none":      {nil, "", ""},
	} {
		typ, err := CheckPhoto(c.b)
		if typ != c.typ || (c.code == "" && err != nil) || (c.code != "" && apperr.CodeOf(err) != c.code) {
			t.Errorf("%s: %q %v, want %q %s", name, typ, err, c.typ, c.code)
		}
	}
}
