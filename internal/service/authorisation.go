package service

import (
	"bytes"
	"context"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// A proxy's authorisation (委托书), photographed with the counter's camera
// or uploaded: checked here, kept encrypted with the handover, shown only
// to the staff of the hall that handed the parcel over and to admins, each
// showing recorded as a read of personal data, and purged with the
// personal data.

// MaxPhotoBytes is the largest authorisation photo taken.
const MaxPhotoBytes = 5 << 20

// CheckPhoto checks an authorisation photo (none: "") and answers its
// type, sniffed from its bytes (a name or a browser's word is not
// trusted). Errors (invalid): proxy.photo_too_large, proxy.photo_type.
func CheckPhoto(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	if len(b) > MaxPhotoBytes {
		return "", apperr.New(apperr.Invalid, "proxy.photo_too_large").OnField("proxy.photo").With("max_mb", MaxPhotoBytes>>20)
	}
	for _, m := range photoMagic {
		if len(b) >= m.at+len(m.magic) && bytes.HasPrefix(b, m.prefix) && bytes.Equal(b[m.at:m.at+len(m.magic)], m.magic) {
			return m.typ, nil
		}
	}
	return "", apperr.New(apperr.Invalid, "proxy.photo_type").OnField("proxy.photo")
}

// photoMagic are the signatures of the image types taken: a prefix, and
// bytes at an offset (WebP: "RIFF", then "WEBP" at 8).
var photoMagic = []struct {
	typ           string
	prefix, magic []byte
	at            int
}{
	{"image/jpeg", []byte{0xFF, 0xD8, 0xFF}, nil, 0},
	{"image/png", []byte("\x89PNG\r\n\x1a\n"), nil, 0},
	{"image/webp", []byte("RIFF"), []byte("WEBP"), 8},
}

// PhotoStore reads the authorisation photo of a parcel's handover.
type PhotoStore interface {
	// AuthorisationPhoto answers the photo of the parcel's handover to a
	// proxy, decrypted, with its type. Errors: proxy.photo_not_found.
	AuthorisationPhoto(ctx context.Context, parcelID int64) (string, []byte, error)
}

// AuthorisationPhoto shows the authorisation photo of a parcel handed to a
// proxy: to admins and to the staff of the hall that handed it over; each
// showing is recorded as a read of personal data.
//
// Errors: parcel.not_found, proxy.photo_not_found (not found);
// proxy.photo_forbidden (forbidden).
func (s *Parcels) AuthorisationPhoto(ctx context.Context, a shipment.Actor, waybill string) (string, []byte, error) {
	p, err := s.Store.ParcelByNumber(ctx, waybill)
	if err != nil {
		return "", nil, err
	}
	hallStaff := (a.Role == shipment.RoleStaff || a.Role == shipment.RoleHallLead) && a.Site == p.CurrentSite()
	if a.Role != shipment.RoleAdmin && !hallStaff {
		return "", nil, apperr.New(apperr.Forbidden, "proxy.photo_forbidden")
	}
	if s.Photos == nil {
		return "", nil, apperr.New(apperr.NotFound, "proxy.photo_not_found")
	}
	t, b, err := s.Photos.AuthorisationPhoto(ctx, p.ID)
	if err != nil {
		return "", nil, err
	}
	if s.Reads != nil {
		if err := s.Reads.RecordRead(ctx, PersonalRead{Actor: a, At: s.now(), Purpose: "authorisation_photo",
			MatchedBy: "waybill", Waybills: []string{p.WaybillNo}}); err != nil {
			return "", nil, err
		}
	}
	return t, b, nil
}
