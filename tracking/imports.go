package tracking

import (
	"time"

	"github.com/changchun-gov/courier/shipment"
)

// A bulk import's preview and result, as the desk shows them.

// ImportRefusal is a refused row: its line, the column at fault (its
// header in the file, "" for the whole row) and why (an apperr code and
// its arguments, never the cell's value).
type ImportRefusal struct {
	Line   int            `json:"line"`
	Column string         `json:"column,omitempty"`
	Code   string         `json:"code"`
	Args   map[string]any `json:"args,omitempty"`
}

// ImportExisting is a row registered before, with the same content: it
// registers nothing again.
type ImportExisting struct {
	Line          int    `json:"line"`
	ApplicationNo string `json:"application_no"`
	WaybillNo     string `json:"waybill_no"`
}

// ImportResult is the clerk's choice and what it did.
type ImportResult struct {
	Choice   string    `json:"choice"` // "import" or "discard"
	At       time.Time `json:"at"`
	Created  []string  `json:"created,omitempty"` // the new parcels' waybill numbers, in the file's order
	Existing int       `json:"existing"`          // rows found registered meanwhile
}

// ImportPreview is a draft as its page shows it: people masked.
type ImportPreview struct {
	ID, FileName, Encoding string
	Kind                   shipment.Kind
	Total                  int
	ExpiresAt              time.Time
	Good                   []ImportGood
	Refused                []ImportRefusal
	Existing               []ImportExisting
	Result                 *ImportResult
}

// ImportGood is a good row as the preview shows it.
type ImportGood struct {
	Line          int
	ApplicationNo string
	Name          string // masked
	DestSite      string
	Path          []string
}
