package shipment

import (
	_ "embed"
	"encoding/json"
	"strings"
	"sync"

	"github.com/changchun-gov/courier/internal/apperr"
)

// divisionsJSON is the national administrative division codes (province,
// city, district), bundled: see divisions/README.md.
//
//go:embed divisions/pca-code.json
var divisionsJSON []byte

// DivisionsJSON is the bundled division codes as the address forms read
// them: [{code, name, children: [{code, name, children: [{code, name}]}]}].
func DivisionsJSON() []byte { return divisionsJSON }

type division struct {
	Code     string     `json:"code"`
	Name     string     `json:"name"`
	Children []division `json:"children"`
}

var divisions = sync.OnceValue(func() map[string]map[string]map[string]bool {
	var list []division
	if err := json.Unmarshal(divisionsJSON, &list); err != nil {
		panic("shipment: the bundled division codes do not parse: " + err.Error())
	}
	out := map[string]map[string]map[string]bool{}
	for _, p := range list {
		cities := map[string]map[string]bool{}
		for _, c := range p.Children {
			areas := map[string]bool{}
			for _, a := range c.Children {
				areas[a.Name] = true
			}
			cities[c.Name] = areas
		}
		out[p.Name] = cities
	}
	return out
})

// CheckDivision checks that an address's province, city and district are
// one of the national divisions, each within the one before (a
// municipality's city is 市辖区).
//
// Errors: address.province_unknown, address.city_unknown,
// address.district_unknown (invalid).
func CheckDivision(a *Address) error {
	cities, ok := divisions()[strings.TrimSpace(a.Province)]
	if !ok {
		return apperr.New(apperr.Invalid, "address.province_unknown").OnField("province")
	}
	areas, ok := cities[strings.TrimSpace(a.City)]
	if !ok {
		return apperr.New(apperr.Invalid, "address.city_unknown").OnField("city")
	}
	if !areas[strings.TrimSpace(a.District)] {
		return apperr.New(apperr.Invalid, "address.district_unknown").OnField("district")
	}
	return nil
}
