package web

import (
	"io"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/tracking"
)

// Bulk import at the desk: upload a file (the approval platform's export
// or the template), see its preview kept on the server — every refused row
// and why, the rows registered before — then register the good rows or
// none; the result prints the batch's labels.

// ImportBodyLimit is the largest file the import takes (a spreadsheet of
// service.ImportMaxRows rows is well under it). The page's script refuses
// a larger file before sending it; sent anyway, it is refused beside the
// form's field, or, over MaxBodyLimit, before the server reads it (413).
const ImportBodyLimit = 10 << 20

// importShown is how many good rows a preview lists (all are imported).
const importShown = 200

type importRefusal struct {
	Line           int
	Column, Reason string
}

type importPageData struct {
	P          tracking.ImportPreview
	Good       []tracking.ImportGood // the first importShown
	Paths      map[int]string        // line → path in names
	Refused    []importRefusal
	Created    string // the new parcels' waybill numbers, for the print form
	MoreRows   int    // good rows not listed
	Importable bool
	Max        int // the largest file taken, in bytes (the upload form)
}

func (s *server) importUploadPage(c *fiber.Ctx) error {
	v := s.view(c, "page.desk_import")
	v.Data = importPageData{Max: ImportBodyLimit}
	return s.renderPage(c, fiber.StatusOK, "desk_import", v)
}

// importUpload reads the uploaded file into a preview and shows it.
func (s *server) importUpload(c *fiber.Ctx) error {
	fail := func(err error) error {
		ae := apperr.As(err)
		if ae == nil {
			return err
		}
		v := s.view(c, "page.desk_import")
		v.Data = importPageData{Max: ImportBodyLimit}
		v.Errors["file"] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
		return s.renderPage(c, statusOf[ae.Kind], "desk_import", v)
	}
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 {
		return fail(apperr.New(apperr.Invalid, "import.no_file").OnField("file"))
	}
	if fh.Size > ImportBodyLimit {
		return fail(apperr.New(apperr.Invalid, "import.too_large").OnField("file"))
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, ImportBodyLimit))
	if err != nil {
		return err
	}
	p, err := s.Imports.Preview(c.UserContext(), actor(c), fileName(fh.Filename), data)
	if err != nil {
		return fail(err)
	}
	return c.Redirect("/desk/import/"+url.PathEscape(p.ID), fiber.StatusSeeOther)
}

// fileName is the base of an uploaded file's name, as the preview shows it.
func fileName(n string) string {
	if i := strings.LastIndexAny(n, `/\`); i >= 0 {
		n = n[i+1:]
	}
	if r := []rune(n); len(r) > 100 {
		n = string(r[:100])
	}
	return n
}

// importPreview shows a preview, or its result once chosen.
func (s *server) importPreview(c *fiber.Ctx) error {
	p, err := s.Imports.Get(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	return s.renderImport(c, fiber.StatusOK, p)
}

// importChoose makes the clerk's choice: import the good rows, or none.
func (s *server) importChoose(c *fiber.Ctx) error {
	p, err := s.Imports.Commit(c.UserContext(), actor(c), c.Params("id"), c.FormValue("choice"))
	if err != nil {
		return err
	}
	return c.Redirect("/desk/import/"+url.PathEscape(p.ID), fiber.StatusSeeOther)
}

func (s *server) renderImport(c *fiber.Ctx, status int, p tracking.ImportPreview) error {
	v := s.view(c, "page.desk_import")
	d := importPageData{P: p, Good: p.Good, Paths: map[int]string{},
		Importable: p.Result == nil && len(p.Good) > 0}
	if len(d.Good) > importShown {
		d.Good, d.MoreRows = d.Good[:importShown], len(d.Good)-importShown
	}
	for _, g := range d.Good {
		d.Paths[g.Line] = strings.Join(s.siteNames(v.Lang, g.Path), " → ")
	}
	for _, r := range p.Refused {
		d.Refused = append(d.Refused, importRefusal{Line: r.Line, Column: r.Column,
			Reason: s.cat.T(v.Lang, r.Code, s.readable(v.Lang, r.Args))})
	}
	if p.Result != nil {
		d.Created = strings.Join(p.Result.Created, " ")
	}
	v.Data = d
	return s.renderPage(c, status, "desk_import", v)
}

// importTemplate sends the template for what the user's site sends.
func (s *server) importTemplate(c *fiber.Ctx) error {
	name, data, err := s.Imports.Template(actor(c), c.Params("format"))
	if err != nil {
		return err
	}
	ct := "text/csv; charset=utf-8"
	if strings.HasSuffix(name, ".xlsx") {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="template`+name[strings.LastIndexByte(name, '.'):]+
		`"; filename*=UTF-8''`+url.PathEscape(name))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(data)
}
