// Package sheet reads the tables clerks upload (CSV in UTF-8 or GBK, XLSX)
// into rows of text, and writes the templates they download. It knows
// nothing of parcels: the service maps the columns.
package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Table is an uploaded table: its header and its data rows (trailing empty
// rows dropped; Rows[i] is line Lines[i] of the file, counting the header
// as line 1).
type Table struct {
	Header []string
	Rows   [][]string
	Lines  []int
	// Encoding is how the file was read: "utf-8", "gbk" or "xlsx".
	Encoding string
}

// maxUnzipped is the most an XLSX may inflate to (10,000 rows of the
// template take a few megabytes).
const maxUnzipped = 256 << 20

// Read reads a CSV or XLSX file (told apart by its first bytes, not its
// name alone) of at most max data rows. Errors (apperr, invalid):
// import.empty, import.format (neither CSV nor XLSX), import.encoding (a
// CSV in neither UTF-8 nor GBK, or not well-formed), import.too_many_rows
// (more than max).
func Read(name string, data []byte, max int) (*Table, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, apperr.New(apperr.Invalid, "import.empty")
	}
	var next func() ([]string, error)
	var lineOf func() int // the line of the record last read
	t := &Table{}
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		// Bounded unzipping: a 10 MB upload may not inflate to gigabytes.
		f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnzipped,
			UnzipXMLSizeLimit: maxUnzipped})
		if err != nil {
			return nil, apperr.New(apperr.Invalid, "import.format").Wrap(err)
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, apperr.New(apperr.Invalid, "import.empty")
		}
		rows, err := f.Rows(sheets[0]) // streamed: a row at a time
		if err != nil {
			return nil, apperr.New(apperr.Invalid, "import.format").Wrap(err)
		}
		defer rows.Close()
		t.Encoding = "xlsx"
		line := 0
		lineOf = func() int { return line }
		next = func() ([]string, error) {
			if !rows.Next() {
				if err := rows.Error(); err != nil {
					return nil, apperr.New(apperr.Invalid, "import.format").Wrap(err)
				}
				return nil, io.EOF
			}
			line++
			return rows.Columns()
		}
	case looksBinary(data) || strings.EqualFold(filepath.Ext(name), ".xls"):
		return nil, apperr.New(apperr.Invalid, "import.format")
	default:
		text, enc, err := decode(data)
		if err != nil {
			return nil, err
		}
		t.Encoding = enc
		r := csv.NewReader(strings.NewReader(text))
		r.FieldsPerRecord = -1 // short rows are the service's to report
		r.LazyQuotes = true
		lineOf = func() int { l, _ := r.FieldPos(0); return l }
		next = func() ([]string, error) {
			rec, err := r.Read()
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, apperr.New(apperr.Invalid, "import.encoding").Wrap(err)
			}
			return rec, err
		}
		// A semicolon or tab-separated export: the comma finds one column.
		if first, _, _ := strings.Cut(text, "\n"); !strings.Contains(first, ",") {
			if strings.Contains(first, "\t") {
				r.Comma = '\t'
			} else if strings.Contains(first, ";") {
				r.Comma = ';'
			}
		}
	}
	for {
		rec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(strings.TrimPrefix(rec[i], "\ufeff"))
		}
		if t.Header == nil {
			if blank(rec) {
				continue // blank lines above the header
			}
			t.Header = rec
			continue
		}
		if blank(rec) {
			continue
		}
		if len(t.Rows) == max {
			return nil, apperr.New(apperr.Invalid, "import.too_many_rows").With("max", max)
		}
		t.Rows = append(t.Rows, rec)
		t.Lines = append(t.Lines, lineOf())
	}
	if t.Header == nil {
		return nil, apperr.New(apperr.Invalid, "import.empty")
	}
	return t, nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if v != "" {
			return false
		}
	}
	return true
}

// looksBinary tells a file that is no text (an old .xls, a picture) by a
// NUL byte near its start.
func looksBinary(data []byte) bool {
	head := data[:min(len(data), 4096)]
	return bytes.IndexByte(head, 0) >= 0
}

// decode reads a CSV's bytes as UTF-8 (a BOM dropped) when they are valid
// UTF-8, else as GBK (GB18030, its superset, which Excel on a Chinese
// Windows writes); bytes that are neither are refused, never guessed.
func decode(data []byte) (string, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data), "utf-8", nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", "", apperr.New(apperr.Invalid, "import.encoding")
	}
	return string(out), "gbk", nil
}

// XLSX writes a one-sheet workbook of the header (bold) and the rows, the
// columns wide enough for Chinese headers.
func XLSX(sheetName string, header []string, rows [][]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	all := append([][]string{header}, rows...)
	for r, rec := range all {
		vals := make([]any, len(rec))
		for i, v := range rec {
			vals[i] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		if err := f.SetSheetRow(sheetName, cell, &vals); err != nil {
			return nil, err
		}
	}
	last, _ := excelize.ColumnNumberToName(max(len(header), 1))
	if err := f.SetColWidth(sheetName, "A", last, 22); err != nil {
		return nil, err
	}
	// Every cell is text: an ID number or a phone kept as digits, never
	// turned into 1.1E+17 by Excel.
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err == nil {
		_ = f.SetColStyle(sheetName, "A:"+last, text)
	}
	end, _ := excelize.CoordinatesToCellName(max(len(header), 1), 1)
	if err := f.SetCellStyle(sheetName, "A1", end, bold); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CSV writes the header and rows as UTF-8 with a BOM (so that Excel opens
// it as UTF-8).
func CSV(header []string, rows [][]string) []byte {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	_ = w.Write(header)
	_ = w.WriteAll(rows)
	return buf.Bytes()
}
