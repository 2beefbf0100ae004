package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

const (
	hoursZH = "周一至周五 8:30–12:00，13:00–17:00（法定节假日除外）"
	hoursEN = "Mon–Fri 8:30–12:00, 13:00–17:00 (closed on public holidays)"
)

func hall(code, zh, en, district, street, detail string) shipment.Site {
	return shipment.Site{Code: code, Kind: shipment.SiteHall, NameZH: zh, NameEN: en, Province: "吉林省", City: "长春市",
		District: district, Street: street, Detail: detail, HoursZH: hoursZH, HoursEN: hoursEN,
		Windows: []shipment.Window{{No: "1", Name: "综合出件窗口"}}, Active: true}
}

func dept(code, zh, en, street string) shipment.Site {
	return shipment.Site{Code: code, Kind: shipment.SiteDepartment, NameZH: "长春市" + zh, NameEN: "Changchun " + en,
		Province: "吉林省", City: "长春市", District: "南关区", Street: street, Detail: "", Active: true,
		HoursZH: hoursZH, HoursEN: hoursEN, Windows: []shipment.Window{}}
}

// ReferenceSites are the sites of the product brief, by stable code.
var ReferenceSites = []shipment.Site{
	{Code: "CC-WIN", Kind: shipment.SiteHall, NameZH: "长春市政务服务中心 出证窗口", NameEN: "Changchun Government Service Center, Issuing Window",
		Province: "吉林省", City: "长春市", District: "南关区", Street: "人民大街", Detail: "市政务服务中心一楼", HoursZH: hoursZH, HoursEN: hoursEN,
		Windows: []shipment.Window{{No: "A01", Name: "统一出证窗口"}, {No: "A02", Name: "统一出证窗口"}}, Active: true},
	{Code: "CC-HUB", Kind: shipment.SiteHub, NameZH: "长春市政务服务中心 物料流转区", NameEN: "Changchun Government Service Center, Circulation Hub",
		Province: "吉林省", City: "长春市", District: "南关区", Street: "人民大街", Detail: "市政务服务中心一楼物料流转区", HoursZH: hoursZH, HoursEN: hoursEN,
		Windows: []shipment.Window{}, Active: true},
	hall("ED-HALL", "二道区政务服务中心", "Erdao District Government Service Center", "二道区", "吉林大路", "二道区政务服务中心"),
	hall("NG-HALL", "南关区政务服务中心", "Nanguan District Government Service Center", "南关区", "亚泰大街", "南关区政务服务中心"),
	hall("NA-HALL", "农安县政务服务中心", "Nong'an County Government Service Center", "农安县", "黄龙路", "农安县政务服务中心"),
	hall("JY-HALL", "净月高新区政务服务中心", "Jingyue Hi-tech Zone Government Service Center", "净月高新区", "净月大街", "净月高新区政务服务中心"),
	hall("DH-HALL", "德惠市政务服务中心", "Dehui City Government Service Center", "德惠市", "胜利大街", "德惠市政务服务中心"),
	hall("YS-HALL", "榆树市政务服务中心", "Yushu City Government Service Center", "榆树市", "正阳街", "榆树市政务服务中心"),
	dept("D-SW", "商务局", "Bureau of Commerce", "人民大街"),
	dept("D-HB", "环保局", "Environmental Protection Bureau", "人民大街"),
	dept("D-GT", "国土局", "Land and Resources Bureau", "人民大街"),
	dept("D-GS", "工商局", "Administration for Industry and Commerce", "人民大街"),
	dept("D-NS", "农业水利局", "Agriculture and Water Resources Bureau", "人民大街"),
	dept("D-LY", "林业局", "Forestry Bureau", "人民大街"),
	dept("D-AJ", "安监局", "Work Safety Bureau", "人民大街"),
}

const bringPerson = "本人有效身份证件原件和取件码；代领须携带委托书及代领人身份证件原件"
const bringPersonEN = "The holder's ID and the collection code; a proxy brings the authorisation and their own ID"
const bringCompany = "营业执照副本复印件（加盖公章）、经办人身份证件原件和取件码；代领须携带单位授权委托书"
const bringCompanyEN = "A stamped copy of the business licence, the agent's ID and the collection code; a proxy brings the company's authorisation"

// ReferenceCertTypes are the certificate types loaded where absent.
var ReferenceCertTypes = []shipment.CertType{
	{Code: "business_licence", NameZH: "营业执照", NameEN: "Business licence", RetentionDays: 30, BringZH: bringCompany, BringEN: bringCompanyEN},
	{Code: "food_business_licence", NameZH: "食品经营许可证", NameEN: "Food business licence", RetentionDays: 30, BringZH: bringCompany, BringEN: bringCompanyEN},
	{Code: "foreign_trade_registration", NameZH: "对外贸易经营者备案登记表", NameEN: "Foreign trade operator registration", RetentionDays: 30, BringZH: bringCompany, BringEN: bringCompanyEN},
	{Code: "eia_approval", NameZH: "环境影响评价批复", NameEN: "Environmental impact approval", RetentionDays: 30, BringZH: bringCompany, BringEN: bringCompanyEN},
	{Code: "pollutant_permit", NameZH: "排污许可证", NameEN: "Pollutant discharge permit", RetentionDays: 30, BringZH: bringCompany, BringEN: bringCompanyEN},
	{Code: "real_estate_certificate", NameZH: "不动产权证书", NameEN: "Real estate title certificate", RetentionDays: 60, BringZH: bringPerson, BringEN: bringPersonEN},
	{Code: "land_use_planning_permit", NameZH: "建设用地规划许可证", NameEN: "Land use planning permit", RetentionDays: 30, BringZH: bringCompany, BringEN: bringCompanyEN},
	{Code: "water_abstraction_permit", NameZH: "取水许可证", NameEN: "Water abstraction permit", RetentionDays: 30, BringZH: bringCompany, BringEN: bringCompanyEN},
	{Code: "logging_permit", NameZH: "林木采伐许可证", NameEN: "Logging permit", RetentionDays: 30, BringZH: bringPerson, BringEN: bringPersonEN},
	{Code: "work_safety_licence", NameZH: "安全生产许可证", NameEN: "Work safety licence", RetentionDays: 30, BringZH: bringCompany, BringEN: bringCompanyEN},
}

// SeedReference inserts the reference sites, certificate types and legs
// where absent, so an administrator's edits survive restarts.
func SeedReference(ctx context.Context, pool *pgxpool.Pool) error {
	return WithTx(ctx, pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, s := range ReferenceSites {
			w, _ := json.Marshal(s.Windows)
			b.Queue(`INSERT INTO sites (code, kind, name_zh, name_en, province, city, district, street, detail,
				phone, hours_zh, hours_en, windows) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
				ON CONFLICT (code) DO NOTHING`,
				s.Code, s.Kind, s.NameZH, s.NameEN, s.Province, s.City, s.District, s.Street, s.Detail,
				s.Phone, s.HoursZH, s.HoursEN, w)
		}
		for _, c := range ReferenceCertTypes {
			b.Queue(`INSERT INTO cert_types (code, name_zh, name_en, retention_days, bring_zh, bring_en)
				VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (code) DO NOTHING`,
				c.Code, c.NameZH, c.NameEN, c.RetentionDays, c.BringZH, c.BringEN)
		}
		for _, l := range ReferenceLegs() {
			b.Queue(`INSERT INTO legs (from_site, to_site, schedule, sla_hours) VALUES ($1, $2, $3, $4)
				ON CONFLICT (from_site, to_site) DO NOTHING`, l.From, l.To, l.Schedule, l.SLAHours)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: seed reference data: %w", err)
		}
		return seedJobs(ctx, tx)
	})
}

// RefData is an in-memory copy of the sites and certificate types, read on
// hot paths (public track, scans) without a query. Reload rereads it; each
// instance's Watcher calls Reload when an administrator edited a site.
type RefData struct {
	reload    sync.Mutex // one Reload at a time, so an older read never replaces a newer one
	mu        sync.RWMutex
	sites     map[string]shipment.Site
	certTypes map[string]shipment.CertType
	places    *sync.Map // placeKey → *tracking.Place, shared read-only by public answers; replaced with the sites
}

type placeKey struct {
	code, lang string
	full       bool
}

// Place is a site as the public sees it, made once per site and language.
func (r *RefData) Place(code, lang string, full bool) *tracking.Place {
	k := placeKey{code, lang, full}
	r.mu.RLock()
	s, ok := r.sites[code]
	places := r.places
	r.mu.RUnlock()
	if !ok {
		return nil
	}
	if p, ok := places.Load(k); ok {
		return p.(*tracking.Place)
	}
	p := &tracking.Place{Code: s.Code, Name: s.Name(lang)}
	if full {
		p.Address, p.Hours, p.Phone = s.Address(), s.HoursZH, s.Phone
		if lang == "en" {
			p.Hours = s.HoursEN
		}
	}
	// Into the map of the sites it was made from: a Reload meanwhile
	// replaced both, so a stale place is never kept.
	places.Store(k, p)
	return p
}

// LoadRefData reads sites and certificate types.
func LoadRefData(ctx context.Context, pool *pgxpool.Pool) (*RefData, error) {
	r := &RefData{}
	return r, r.Reload(ctx, pool)
}

// Reload rereads the reference data.
func (r *RefData) Reload(ctx context.Context, pool *pgxpool.Pool) error {
	r.reload.Lock()
	defer r.reload.Unlock()
	rows, err := pool.Query(ctx, `SELECT `+siteCols+` FROM sites`)
	if err != nil {
		return fmt.Errorf("postgres: load sites: %w", err)
	}
	sites := map[string]shipment.Site{}
	for rows.Next() {
		s, err := scanSite(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("postgres: load sites: %w", err)
		}
		sites[s.Code] = s
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: load sites: %w", err)
	}
	ct, err := pool.Query(ctx, `SELECT code, name_zh, name_en, retention_days, bring_zh, bring_en FROM cert_types`)
	if err != nil {
		return fmt.Errorf("postgres: load cert types: %w", err)
	}
	certs, err := pgx.CollectRows(ct, func(row pgx.CollectableRow) (shipment.CertType, error) {
		var c shipment.CertType
		err := row.Scan(&c.Code, &c.NameZH, &c.NameEN, &c.RetentionDays, &c.BringZH, &c.BringEN)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("postgres: load cert types: %w", err)
	}
	cm := make(map[string]shipment.CertType, len(certs))
	for _, c := range certs {
		cm[c.Code] = c
	}
	r.mu.Lock()
	r.sites, r.certTypes, r.places = sites, cm, &sync.Map{}
	r.mu.Unlock()
	return nil
}

// Site returns a site by code.
func (r *RefData) Site(code string) (shipment.Site, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.sites[code]
	return s, ok
}

// SiteKind is a shipment.SiteLookup.
func (r *RefData) SiteKind(code string) (shipment.SiteKind, bool) {
	s, ok := r.Site(code)
	if !ok || !s.Active {
		return "", false
	}
	return s.Kind, true
}

// Sites returns every site, by code.
func (r *RefData) Sites() []shipment.Site {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]shipment.Site, 0, len(r.sites))
	for _, s := range r.sites {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// CertType returns a certificate type by code.
func (r *RefData) CertType(code string) (shipment.CertType, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.certTypes[code]
	return c, ok
}

// HasCertType is a shipment.CertTypeLookup.
func (r *RefData) HasCertType(code string) bool { _, ok := r.CertType(code); return ok }

// CertTypes returns every certificate type, by code.
func (r *RefData) CertTypes() []shipment.CertType {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]shipment.CertType, 0, len(r.certTypes))
	for _, c := range r.certTypes {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
