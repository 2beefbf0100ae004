package i18n

import (
	"slices"
	"testing"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	t.Parallel()
	zh, err := keys("catalog/zh-CN.json")
	if err != nil {
		t.Fatal(err)
	}
	en, err := keys("catalog/en.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range zh {
		if !slices.Contains(en, k) {
			t.Errorf("key %q is in zh-CN.json but not in en.json", k)
		}
	}
	for _, k := range en {
		if !slices.Contains(zh, k) {
			t.Errorf("key %q is in en.json but not in zh-CN.json", k)
		}
	}
	if len(zh) < 50 {
		t.Fatalf("only %d keys loaded", len(zh))
	}
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	c := MustLoad()
	args := map[string]any{"expected": "二道区", "site": "南关区"}
	if got := c.T(Chinese, "scan.wrong_site", args); got != "站点不符：此件应在 二道区 处理，当前站点为 南关区" {
		t.Errorf("zh: %q", got)
	}
	if got := c.T(English, "status.ready", nil); got != "Ready for collection" {
		t.Errorf("en: %q", got)
	}
	if got := c.T(Chinese, "no.such.key", nil); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
}

func TestLang(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                        Chinese,
		"en":                      English,
		"en-US,en;q=0.9":          English,
		"zh-CN,zh;q=0.9,en;q=0.8": Chinese,
		"fr-FR,en;q=0.5":          English,
		"de":                      Chinese,
		"garbage;;;":              Chinese,
		"zh-TW":                   Chinese,
	} {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}
