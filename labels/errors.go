package labels

import (
	"strconv"
	"strings"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Error codes (apperr.Error.Code, also the i18n message keys). All are
// apperr.Invalid except CodeRenderFailed (apperr.Internal).
const (
	// A waybill label's number is missing or is not a valid parcel number
	// (CP, 13 digits, check character). Field "waybill_no"; argument
	// "items" names the label.
	CodeWaybillInvalid = "label.waybill_invalid"
	// Something a label needs is missing or invalid. Field and argument
	// "field" name it (kind, origin, destination, address, recipient_name,
	// run_no, …); argument "items" names the label.
	CodeFieldInvalid = "label.field_invalid"
	// A batch or sheet with no labels.
	CodeBatchEmpty = "label.batch_empty"
	// A batch or sheet of more than MaxBatch labels. Arguments "count" and
	// "max".
	CodeBatchTooLarge = "label.batch_too_large"
	// Labels in a batch or sheet cannot be printed; nothing was printed.
	// Arguments: "items", every offending label as "#<position> <number>
	// (<field>)" joined by "; " (position counts from 1); "indexes", their
	// positions counting from 0 ([]int); "count", how many.
	CodeBatchInvalid = "label.batch_invalid"
	// A bag label's number is missing or is not a bag (CB…) or run (CR…)
	// number. Field "bag_no"; argument "bag_no" (as given, shortened).
	CodeBagNoInvalid = "label.bag_no_invalid"
	// A manifest's run number is missing or is not a run number (CR…).
	// Field "run_no"; argument "run_no".
	CodeRunNoInvalid = "label.run_no_invalid"
	// A manifest without parcels.
	CodeManifestEmpty = "label.manifest_empty"
	// A manifest of more than MaxManifestParcels parcels. Arguments "count"
	// and "max".
	CodeManifestTooLarge = "label.manifest_too_large"
	// Parcels of a manifest have a missing or invalid waybill number.
	// Arguments "items", "indexes", "count" as for CodeBatchInvalid.
	CodeManifestInvalid = "label.manifest_invalid"
	// The document could not be built (a bug, or fpdf failed); the cause is
	// wrapped. apperr.Internal.
	CodeRenderFailed = "label.render_failed"
)

// Limits.
const (
	// MaxBatch is the most labels one Batch or Sheet call prints: a clerk's
	// print run. 1,000 labels make a PDF of about 2.5 MB in well under a
	// second (see bench_test.go).
	MaxBatch = 1000
	// MaxManifestParcels is the most parcels one manifest lists (about 35
	// A4 pages).
	MaxManifestParcels = 1000
)

// problem is one item that cannot be printed.
type problem struct {
	index  int
	number string
	field  string
}

// itemName names an item for an error message: its position counting from
// 1 and its number as given (only letters, digits and '-' kept, at most 24
// characters), for example "#3 CP4821937460215L".
func itemName(index int, number string) string {
	s := "#" + strconv.Itoa(index+1)
	var b strings.Builder
	for _, c := range strings.TrimSpace(number) {
		if b.Len() >= 24 {
			b.WriteString("…")
			break
		}
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' {
			b.WriteRune(c)
		}
	}
	if b.Len() > 0 {
		s += " " + b.String()
	}
	return s
}

// listError is the error for several items that cannot be printed.
func listError(code string, ps []problem) error {
	items := make([]string, len(ps))
	indexes := make([]int, len(ps))
	for i, p := range ps {
		items[i] = itemName(p.index, p.number) + " (" + p.field + ")"
		indexes[i] = p.index
	}
	return apperr.New(apperr.Invalid, code).
		With("items", strings.Join(items, "; ")).
		With("indexes", indexes).
		With("count", len(ps))
}

// shorten keeps at most 24 letters, digits and hyphens of s, for an error
// argument that echoes input.
func shorten(s string) string {
	name := itemName(0, s)
	if i := strings.IndexByte(name, ' '); i >= 0 {
		return name[i+1:]
	}
	return ""
}
