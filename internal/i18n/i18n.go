// Package i18n translates message keys into the reader's language. Simplified
// Chinese is the default; English is available. Catalogs are JSON files
// embedded in the binary (zh-CN.json, en.json) and loaded with go-i18n; a test
// fails when a key is in one catalog and not the other.
package i18n

import (
	"embed"
	"fmt"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed catalog/*.json
var catalogFS embed.FS

// The supported languages.
const (
	Chinese = "zh-CN"
	English = "en"
)

// Catalog holds the loaded messages.
type Catalog struct {
	bundle *goi18n.Bundle
	zh, en *goi18n.Localizer
}

// Load parses the embedded catalogs. It fails if a catalog does not parse.
func Load() (*Catalog, error) {
	b := goi18n.NewBundle(language.SimplifiedChinese)
	for _, f := range []string{"catalog/zh-CN.json", "catalog/en.json"} {
		if _, err := b.LoadMessageFileFS(catalogFS, f); err != nil {
			return nil, fmt.Errorf("i18n: load %s: %w", f, err)
		}
	}
	return &Catalog{bundle: b, zh: goi18n.NewLocalizer(b, Chinese), en: goi18n.NewLocalizer(b, English)}, nil
}

// MustLoad is Load for tests and start-up code that cannot go on without it.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Lang picks the language from an Accept-Language header (or a ?lang value):
// English when English is preferred over Chinese, Chinese otherwise.
func Lang(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil {
		return Chinese
	}
	for _, t := range tags {
		base, _ := t.Base()
		switch base.String() {
		case "zh":
			return Chinese
		case "en":
			return English
		}
	}
	return Chinese
}

// T translates key into lang with args filled into {{.name}} placeholders. An
// unknown key yields the key itself, so a missing message never hides an error.
func (c *Catalog) T(lang, key string, args map[string]any) string {
	l := c.zh
	if lang == English {
		l = c.en
	}
	s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: args})
	if err != nil || s == "" {
		return key
	}
	return s
}

// Has reports whether the key is in the Chinese catalog.
func (c *Catalog) Has(key string) bool {
	_, err := c.zh.Localize(&goi18n.LocalizeConfig{MessageID: key})
	return err == nil
}

// Keys returns the message ids of a catalog file, for the completeness test.
func keys(file string) ([]string, error) {
	b := goi18n.NewBundle(language.SimplifiedChinese)
	mf, err := b.LoadMessageFileFS(catalogFS, file)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(mf.Messages))
	for _, m := range mf.Messages {
		out = append(out, m.ID)
	}
	return out, nil
}

// Prefixed returns every Chinese-catalog key starting with prefix.
func (c *Catalog) Prefixed(prefix string) []string {
	all, _ := keys("catalog/zh-CN.json")
	var out []string
	for _, k := range all {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// Keys returns every message key of the Chinese catalog.
func (c *Catalog) Keys() []string { return c.Prefixed("") }
