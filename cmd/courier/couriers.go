package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/changchun-gov/courier/integrations/ems"
	"github.com/changchun-gov/courier/integrations/manual"
	"github.com/changchun-gov/courier/integrations/sfexpress"
	"github.com/changchun-gov/courier/integrations/simulator"
	svc "github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
	"github.com/changchun-gov/courier/web"
)

// CourierConfig is which courier serves the legs and the express parcels,
// and the accounts they are reached with.
type CourierConfig struct {
	Legs, Express string // sfexpress, ems or manual
	// Sim starts the courier simulator in-process and points the carriers
	// at it (the embedded default without a courier account).
	Sim      bool
	SimSpeed float64
	SF       struct{ URL, PartnerID, CheckWord, MonthlyCard string }
	EMS      struct{ URL, SenderNo, Authorization, SignKey string }
	// PushToken is the unguessable part of the push endpoints' address.
	PushToken string
	PushAllow []*net.IPNet
}

var courierEnvVars = []envVar{
	{"COURIER_CARRIER_LEGS", "sfexpress on the simulator (embedded default); manual with DATABASE_URL and no courier account", "The courier that books the runs between sites: sfexpress, ems or manual (bookings recorded as made by telephone)."},
	{"COURIER_CARRIER_EXPRESS", "as COURIER_CARRIER_LEGS", "The courier that delivers express parcels to citizens: sfexpress, ems or manual."},
	{"COURIER_COURIER_SIM", "on with the embedded database and no COURIER_SF_URL/COURIER_EMS_URL; else off", "on: start the courier simulator (SF's and EMS's protocols on loopback, pushing route events back on a timeline) in-process and use it. `courier sim` runs it alone."},
	{"COURIER_SIM_SPEED", "20", "How much faster than real time the simulator's route plays (20: the courier collects a bag 90 seconds after its booking and the hall signs for it ten and a half minutes after; 60: an hour in a minute)."},
	{"COURIER_SF_URL", "(unset)", "SF open platform's service address, e.g. https://sfapi.sf-express.com/std/service (sandbox: https://sfapi-sbox.sf-express.com/std/service)."},
	{"COURIER_SF_PARTNER_ID", "(unset)", "SF partnerID (顾客编码)."},
	{"COURIER_SF_CHECKWORD", "(unset)", "SF checkword (校验码) that signs every call. COURIER_SF_CHECKWORD_FILE names a file holding it."},
	{"COURIER_SF_MONTHLY_CARD", "(unset)", "SF monthly account card (月结卡号) the city's orders are billed to."},
	{"COURIER_EMS_URL", "(unset)", "EMS open API's address."},
	{"COURIER_EMS_SENDER_NO", "(unset)", "EMS senderNo (协议客户号)."},
	{"COURIER_EMS_AUTHORIZATION", "(unset)", "EMS authorization code. COURIER_EMS_AUTHORIZATION_FILE names a file holding it."},
	{"COURIER_EMS_SIGN_KEY", "(unset)", "EMS SM4 key (the account's signKey: the Base64 text of 16 bytes). COURIER_EMS_SIGN_KEY_FILE names a file holding it."},
	{"COURIER_PUSH_TOKEN", "(generated into COURIER_DATA_DIR on the embedded database; required with DATABASE_URL and a courier account)", "The secret part of the push endpoints given to the couriers: <COURIER_PUBLIC_URL>/hooks/sfexpress/<token> and /hooks/ems/<token>. At least 24 characters. COURIER_PUSH_TOKEN_FILE names a file holding it."},
	{"COURIER_PUSH_ALLOW", "(unset: any address)", "Comma-separated addresses or CIDRs the couriers push from; pushes from elsewhere are refused (403)."},
}

func init() { EnvVars = append(EnvVars, courierEnvVars...) }

var carrierNames = []string{sfexpress.CarrierName, ems.CarrierName, manual.CarrierName}

// loadCourierConfig reads the courier's part of the configuration.
func loadCourierConfig(env getenv, embedded bool, bad func(name, why string), errs *[]error) CourierConfig {
	var cc CourierConfig
	read := func(name string, dst *string) {
		v, err := secret(env, name)
		if err != nil {
			*errs = append(*errs, err)
		}
		*dst = strings.TrimSpace(v)
	}
	cc.SF.URL, cc.SF.PartnerID, cc.SF.MonthlyCard = env("COURIER_SF_URL"), env("COURIER_SF_PARTNER_ID"), env("COURIER_SF_MONTHLY_CARD")
	read("COURIER_SF_CHECKWORD", &cc.SF.CheckWord)
	cc.EMS.URL, cc.EMS.SenderNo = env("COURIER_EMS_URL"), env("COURIER_EMS_SENDER_NO")
	read("COURIER_EMS_AUTHORIZATION", &cc.EMS.Authorization)
	read("COURIER_EMS_SIGN_KEY", &cc.EMS.SignKey)
	read("COURIER_PUSH_TOKEN", &cc.PushToken)
	account := cc.SF.URL != "" || cc.EMS.URL != ""
	switch env("COURIER_COURIER_SIM") {
	case "":
		cc.Sim = embedded && !account
	case "on", "1":
		cc.Sim = true
	case "off", "0":
	default:
		bad("COURIER_COURIER_SIM", "want on or off")
	}
	if cc.Sim && account {
		bad("COURIER_COURIER_SIM", "the simulator replaces the courier accounts: unset COURIER_SF_URL and COURIER_EMS_URL, or set COURIER_COURIER_SIM=off")
	}
	cc.SimSpeed = 20
	if v := env("COURIER_SIM_SPEED"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 1 || f > 100000 {
			bad("COURIER_SIM_SPEED", "want a number from 1 to 100000")
		} else {
			cc.SimSpeed = f
		}
	}
	def := manual.CarrierName
	switch {
	case cc.Sim || cc.SF.URL != "":
		def = sfexpress.CarrierName
	case cc.EMS.URL != "":
		def = ems.CarrierName
	}
	cc.Legs, cc.Express = def, ""
	for _, v := range []struct {
		name string
		dst  *string
	}{{"COURIER_CARRIER_LEGS", &cc.Legs}, {"COURIER_CARRIER_EXPRESS", &cc.Express}} {
		if s := env(v.name); s != "" {
			ok := false
			for _, n := range carrierNames {
				ok = ok || n == s
			}
			if !ok {
				bad(v.name, "want sfexpress, ems or manual")
				continue
			}
			*v.dst = s
		}
	}
	if cc.Express == "" {
		cc.Express = cc.Legs
	}
	if !cc.Sim {
		for _, used := range []string{cc.Legs, cc.Express} {
			switch used {
			case sfexpress.CarrierName:
				if cc.SF.URL == "" || cc.SF.PartnerID == "" || cc.SF.CheckWord == "" {
					bad("COURIER_SF_URL", "sfexpress needs COURIER_SF_URL, COURIER_SF_PARTNER_ID and COURIER_SF_CHECKWORD (or the simulator: COURIER_COURIER_SIM=on)")
				}
			case ems.CarrierName:
				if k, err := base64.StdEncoding.DecodeString(cc.EMS.SignKey); cc.EMS.URL == "" || cc.EMS.SenderNo == "" ||
					cc.EMS.Authorization == "" || err != nil || len(k) != 16 {
					bad("COURIER_EMS_URL", "ems needs COURIER_EMS_URL, COURIER_EMS_SENDER_NO, COURIER_EMS_AUTHORIZATION and COURIER_EMS_SIGN_KEY, the Base64 text of a 16-byte SM4 key (or the simulator: COURIER_COURIER_SIM=on)")
				}
			}
		}
	}
	for _, u := range []struct{ name, v string }{{"COURIER_SF_URL", cc.SF.URL}, {"COURIER_EMS_URL", cc.EMS.URL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			bad(u.name, "want an http(s) address")
		}
	}
	if cc.PushToken != "" && len(cc.PushToken) < 24 {
		bad("COURIER_PUSH_TOKEN", "at least 24 characters (generate one with: openssl rand -hex 16)")
	}
	if cc.PushToken == "" && !embedded && (cc.Legs != manual.CarrierName || cc.Express != manual.CarrierName) {
		bad("COURIER_PUSH_TOKEN", "required with DATABASE_URL and a courier (every instance answers the same push address; generate one with: openssl rand -hex 16)")
	}
	for _, p := range strings.Split(env("COURIER_PUSH_ALLOW"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			bad("COURIER_PUSH_ALLOW", "want addresses or CIDRs, e.g. 203.0.113.0/24")
			continue
		}
		cc.PushAllow = append(cc.PushAllow, n)
	}
	return cc
}

// couriers is the couriers as the service uses them.
type couriers struct {
	legs      tracking.Carrier
	express   tracking.ExpressCarrier
	named     map[string]tracking.Carrier
	receivers map[string]web.PushReceiver
	token     string
	sim       *courierSim
	// emsMapping is how EMS's events are read now (administrators change
	// it; every instance reloads it).
	emsMapping atomic.Pointer[ems.Mapping]
}

// mapping is EMS's mapping now.
func (c *couriers) mapping() ems.Mapping {
	if m := c.emsMapping.Load(); m != nil {
		return *m
	}
	return ems.DefaultMapping
}

// loadMapping reads EMS's saved mapping (none: the default).
func (c *couriers) loadMapping(ctx context.Context, read func(context.Context, string) (tracking.StageMapping, bool, error)) error {
	m, saved, err := read(ctx, ems.CarrierName)
	if err != nil {
		return err
	}
	mapping := ems.DefaultMapping
	if saved {
		mapping = ems.MappingOf(m)
	}
	c.emsMapping.Store(&mapping)
	return nil
}

// courierSim is the in-process simulator.
type courierSim struct {
	sf       *simulator.SF
	ems      *simulator.EMS
	timeline *simulator.Timeline
	srv      *http.Server
	url      string
	manual   bool // the timeline plays when a test ticks it
}

// pushToken is the configured token; on the embedded default, the one
// generated into its data directory; with the simulator on DATABASE_URL
// (which pushes to this instance alone), one for this run. "": no push
// endpoints (manual bookings only).
func pushToken(cfg *Config, embedded bool) (string, error) {
	if cfg.Couriers.PushToken != "" {
		return cfg.Couriers.PushToken, nil
	}
	if !embedded {
		if cfg.Couriers.Sim {
			return randomText(32), nil
		}
		return "", nil
	}
	path := filepath.Join(cfg.DataDir, "push-token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 24 {
		return strings.TrimSpace(string(b)), nil
	}
	tok := randomText(32)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("push token: %w", err)
	}
	return tok, nil
}

// sm4Key is a fresh SM4 key as EMS writes one: the Base64 text of 16 bytes.
func sm4Key() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// startCouriers builds the carriers and the push receivers (and starts the
// simulator when configured). site finds a site's address; record keeps
// each call's exchange; receive takes a push's nodes.
func startCouriers(cfg *Config, site func(string) (shipment.Site, bool), record func(context.Context, tracking.CourierExchange),
	receive func(context.Context, []tracking.RouteNode) (svc.NodeReceipt, error), log *slog.Logger, now func() time.Time,
	h *testHooks) (*couriers, error) {
	cc := cfg.Couriers
	out := &couriers{named: map[string]tracking.Carrier{manual.CarrierName: manual.Carrier{}}, receivers: map[string]web.PushReceiver{}}
	tok, err := pushToken(cfg, cfg.DatabaseURL == "")
	if err != nil {
		return nil, err
	}
	out.token = tok
	sfCfg, emsCfg := cc.SF, cc.EMS
	if cc.Sim {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("courier simulator: %w", err)
		}
		s := &courierSim{sf: &simulator.SF{PartnerID: "SIM" + randomText(8), CheckWord: randomText(32), Now: now},
			ems: &simulator.EMS{SenderNo: "SIM" + randomText(8), Authorization: randomText(24), SignKey: sm4Key(), Now: now}}
		mux := http.NewServeMux()
		mux.Handle("/sf/std/service", s.sf)
		mux.Handle("/ems/api", s.ems)
		s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.srv.Serve(ln) }()
		s.url = "http://" + ln.Addr().String()
		sfCfg.URL, sfCfg.PartnerID, sfCfg.CheckWord, sfCfg.MonthlyCard = s.url+"/sf/std/service", s.sf.PartnerID, s.sf.CheckWord, "7551234567"
		emsCfg.URL, emsCfg.SenderNo, emsCfg.Authorization, emsCfg.SignKey = s.url+"/ems/api", s.ems.SenderNo, s.ems.Authorization, s.ems.SignKey
		s.timeline = &simulator.Timeline{SF: s.sf, EMS: s.ems, Speed: cc.SimSpeed, Now: now,
			Client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				// The service's own loopback address, whatever its certificate names.
				TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}} //nolint:gosec // loopback to ourselves
		out.sim = s
		if h != nil && h.sim != nil {
			s.manual = true
			h.sim(s)
		}
		log.Info("courier simulator started (no courier account configured)", "addr", ln.Addr().String(), "speed", cc.SimSpeed)
	}
	httpc := &http.Client{Timeout: 10 * time.Second}
	if h != nil && h.courierTimeout > 0 {
		httpc.Timeout = h.courierTimeout
	}
	save := func(ctx context.Context, nodes []tracking.RouteNode) (int, error) {
		r, err := receive(ctx, nodes)
		if r.Unknown > 0 {
			log.Warn("courier push of waybills that are no booking of ours: not kept", "carrier", nodes[0].Carrier, "nodes", r.Unknown)
		}
		if err != nil {
			log.Warn("courier push not kept: the courier pushes it again", "carrier", nodes[0].Carrier, "nodes", len(nodes), "err", err)
		}
		return r.Fresh, err
	}
	if sfCfg.URL != "" {
		client := sfexpress.New(sfexpress.Config{URL: sfCfg.URL, PartnerID: sfCfg.PartnerID, CheckWord: sfCfg.CheckWord,
			MonthlyCard: sfCfg.MonthlyCard, HTTP: httpc, Now: now})
		out.named[sfexpress.CarrierName] = &sfexpress.Carrier{Client: client, Site: site, Record: record, Now: now}
		out.receivers[sfexpress.CarrierName] = &sfexpress.PushReceiver{Save: save, Now: now}
	}
	if emsCfg.URL != "" {
		client := ems.New(ems.Config{URL: emsCfg.URL, SenderNo: emsCfg.SenderNo, Authorization: emsCfg.Authorization,
			SignKey: emsCfg.SignKey, HTTP: httpc, Now: now})
		out.named[ems.CarrierName] = &ems.Carrier{Client: client, Site: site, Record: record, Now: now, Mapping: out.mapping}
		out.receivers[ems.CarrierName] = &ems.PushReceiver{SignKey: emsCfg.SignKey, SenderNo: emsCfg.SenderNo, Mapping: out.mapping,
			Save: save, Now: now}
	}
	out.legs = out.named[cc.Legs]
	out.express, _ = out.named[cc.Express].(tracking.ExpressCarrier)
	if out.legs == nil || out.express == nil {
		return nil, errors.New("courier: the configured carrier has no account (see COURIER_CARRIER_LEGS)")
	}
	return out, nil
}

// startTimeline points the simulator's pushes at the service's own push
// endpoints (base: the service's loopback address) and plays its route.
func (c *couriers) startTimeline(ctx context.Context, base string) {
	if c.sim == nil {
		return
	}
	c.sim.timeline.SFPushURL = base + "/hooks/sfexpress/" + c.token
	c.sim.timeline.EMSPushURL = base + "/hooks/ems/" + c.token
	if !c.sim.manual {
		go c.sim.timeline.Run(ctx, 2*time.Second)
	}
}

func (c *couriers) stop() {
	if c != nil && c.sim != nil {
		_ = c.sim.srv.Close()
	}
}
