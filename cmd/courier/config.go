package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/secrets"
	"github.com/changchun-gov/courier/shipment"
)

// Config is the service's configuration, read from the environment once and
// validated at start.
type Config struct {
	DatabaseURL   string
	DataDir       string
	Addr          string
	PublicURL     string
	Migrate       bool
	AdminPassword string
	IDHashKey     []byte
	DataKey       []byte
	LogLevel      string
	LogFormat     string
	TokenTTL      time.Duration
	// A browser session's absolute and idle ends.
	SessionMax, SessionIdle time.Duration
	DBMaxConns              int32
	PasswordCost            int
	ProxyHeader             string
	TrustedProxies          []string
	TrackFree               int
	TrackHard               int
	// Scheduler runs the consolidation runs and jobs on this instance.
	Scheduler bool
	// TLSCert and TLSKey name the files of the certificate and key the
	// service serves HTTPS with (both or neither).
	TLSCert, TLSKey string
	// Demo fills in a demo day on the embedded default's first start.
	Demo bool
	// DurableEmbedded is false only for test clusters.
	DurableEmbedded bool
	// DatabaseOwnerURL connects as the owner of the tables, for migrations.
	DatabaseOwnerURL string
	// DigestKey signs the daily digests of the event log (nil: unsigned).
	DigestKey ed25519.PrivateKey
	// Couriers: which courier serves what, and its accounts.
	Couriers CourierConfig
}

// envVar documents one variable; the README's table is written from these.
type envVar struct {
	Name, Default, Help string
}

// EnvVars are the variables the service reads.
var EnvVars = []envVar{
	{"DATABASE_URL", "(unset: embedded PostgreSQL)", "PostgreSQL connection string; when set, no embedded server is started. DATABASE_URL_FILE names a file holding it."},
	{"DATABASE_OWNER_URL", "(unset)", "Connection string of the tables' owner, for migrations (`courier migrate up`, COURIER_MIGRATE=1); only with DATABASE_URL, whose role the service refuses when it is a superuser or the owner. DATABASE_OWNER_URL_FILE names a file holding it."},
	{"COURIER_DATA_DIR", "./var", "Where the embedded cluster, its log and the generated secrets live."},
	{"COURIER_ADDR", ":8080", "HTTP listen address."},
	{"COURIER_TLS_CERT_FILE", "(unset: plain HTTP)", "PEM certificate (with its chain) the service serves HTTPS with, on COURIER_ADDR; set COURIER_TLS_KEY_FILE too. Camera scanning and the offline scan station need HTTPS away from localhost."},
	{"COURIER_TLS_KEY_FILE", "(unset)", "PEM private key of COURIER_TLS_CERT_FILE."},
	{"COURIER_PUBLIC_URL", "http://localhost:8080", "The address citizens reach the service at; label QR codes point to <COURIER_PUBLIC_URL>/t/<waybill>, private links are <COURIER_PUBLIC_URL>/s/<token>."},
	{"COURIER_DEMO", "1 on the embedded database's first start", "0: no demo day. On the embedded default's first start the service fills in a demo day (users for each role with one printed password, parcels in every state, a run with its bag); never on DATABASE_URL."},
	{"COURIER_MIGRATE", "0 (1 on the embedded database)", "1: apply pending migrations at start. On DATABASE_URL the service otherwise refuses a schema that is behind."},
	{"COURIER_ADMIN_PASSWORD", "(generated, printed once)", "Password for the `admin` user when it is first created. COURIER_ADMIN_PASSWORD_FILE names a file holding it."},
	{"COURIER_ID_HASH_KEY", "(generated into COURIER_DATA_DIR on the embedded database; required with DATABASE_URL)", "32-byte key (64 hex digits or base64) for the keyed hash of ID numbers and collection codes. COURIER_ID_HASH_KEY_FILE names a file."},
	{"COURIER_DATA_KEY", "(as above)", "32-byte AES-256-GCM key for stored ciphertext (ID numbers, message payloads). COURIER_DATA_KEY_FILE names a file."},
	{"COURIER_DIGEST_KEY", "(unset: digests unsigned)", "Ed25519 private key (its 32-byte seed, 64 hex digits or base64) that signs the daily digests of the event log. COURIER_DIGEST_KEY_FILE names a file."},
	{"COURIER_LOG_LEVEL", "info", "debug, info, warn or error."},
	{"COURIER_LOG_FORMAT", "text", "text or json."},
	{"COURIER_TOKEN_TTL", "12h", "Lifetime of an API token (Go duration)."},
	{"COURIER_SESSION_MAX", "12h", "A staff page session ends this long after sign-in, however busy (Go duration, 1h–24h)."},
	{"COURIER_SESSION_IDLE", "2h", "A staff page session ends after this long without use (Go duration, 5m up to COURIER_SESSION_MAX)."},
	{"COURIER_DB_MAX_CONNS", "16", "Largest database pool."},
	{"COURIER_PASSWORD_COST", "10", "bcrypt cost (4–14) of stored passwords; the check of an unknown username uses the same cost, so its answer takes as long. Each step doubles the time of a sign-in. Existing hashes keep their cost until the password changes."},
	{"COURIER_PROXY_HEADER", "(unset)", "Header carrying the client address behind a load balancer, e.g. X-Real-IP (set by the balancer, not the client). Unset: the peer address. Needs COURIER_TRUSTED_PROXIES."},
	{"COURIER_TRUSTED_PROXIES", "(unset)", "Comma-separated addresses or CIDRs of the load balancers whose COURIER_PROXY_HEADER is believed; from anyone else the peer address counts."},
	{"COURIER_TRACK_FREE_FAILURES", "10", "Failed public lookups per client in 10 minutes before each further failure is delayed."},
	{"COURIER_TRACK_MAX_FAILURES", "60", "Failed public lookups per client in 10 minutes before further failures are refused (429)."},
	{"COURIER_SCHEDULER", "on", "off: this instance makes no scheduled runs and runs no jobs (it still serves, and its job queue still books couriers). Every instance may schedule: the database makes each slot run once."},
}

type getenv func(string) string

// secret reads NAME, or the file named by NAME_FILE.
func secret(env getenv, name string) (string, error) {
	v := env(name)
	f := env(name + "_FILE")
	if v != "" && f != "" {
		return "", fmt.Errorf("%s and %s_FILE are both set: set one", name, name)
	}
	if f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return v, nil
}

func loadConfig(env getenv) (*Config, error) {
	c := &Config{Addr: ":8080", PublicURL: "http://localhost:8080", DataDir: "var", LogLevel: "info",
		LogFormat: "text", TokenTTL: 12 * time.Hour, SessionMax: 12 * time.Hour, SessionIdle: 2 * time.Hour, DBMaxConns: 16, PasswordCost: 10, TrackFree: 10, TrackHard: 60,
		DurableEmbedded: true, Demo: true}
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s: %s", name, why)) }
	var err error
	if c.DatabaseURL, err = secret(env, "DATABASE_URL"); err != nil {
		errs = append(errs, err)
	}
	if c.DatabaseOwnerURL, err = secret(env, "DATABASE_OWNER_URL"); err != nil {
		errs = append(errs, err)
	} else if c.DatabaseOwnerURL != "" && c.DatabaseURL == "" {
		bad("DATABASE_OWNER_URL", "only with DATABASE_URL (the embedded database has its own owner)")
	}
	if v := env("COURIER_DATA_DIR"); v != "" {
		c.DataDir = v
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	if v := env("COURIER_ADDR"); v != "" {
		c.Addr = v
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("COURIER_ADDR", "want host:port or :port, e.g. :8080")
	}
	if v := env("COURIER_PUBLIC_URL"); v != "" {
		c.PublicURL = strings.TrimRight(v, "/")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("COURIER_PUBLIC_URL", "want an absolute http(s) URL, e.g. https://zwfw.changchun.gov.cn")
	}
	c.TLSCert, c.TLSKey = env("COURIER_TLS_CERT_FILE"), env("COURIER_TLS_KEY_FILE")
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("COURIER_TLS_CERT_FILE/COURIER_TLS_KEY_FILE", "set both or neither")
	}
	switch env("COURIER_DEMO") {
	case "", "1":
	case "0":
		c.Demo = false
	default:
		bad("COURIER_DEMO", "want 0 or 1")
	}
	switch env("COURIER_MIGRATE") {
	case "", "0", "false":
	case "1", "true":
		c.Migrate = true
		if c.DatabaseURL != "" && c.DatabaseOwnerURL == "" {
			bad("COURIER_MIGRATE", "migrations run as the owner of the tables: set DATABASE_OWNER_URL too")
		}
	default:
		bad("COURIER_MIGRATE", "want 0 or 1")
	}
	if c.AdminPassword, err = secret(env, "COURIER_ADMIN_PASSWORD"); err != nil {
		errs = append(errs, err)
	} else if c.AdminPassword != "" && shipment.CheckPassword("admin", c.AdminPassword, "") != nil {
		bad("COURIER_ADMIN_PASSWORD", "at least 10 characters and at most 72 bytes, not the username, not a common password")
	}
	for _, k := range []struct {
		name string
		dst  *[]byte
	}{{"COURIER_ID_HASH_KEY", &c.IDHashKey}, {"COURIER_DATA_KEY", &c.DataKey}} {
		v, err := secret(env, k.name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v == "" {
			continue
		}
		b, err := secrets.ParseKey(v)
		if err != nil {
			bad(k.name, err.Error())
			continue
		}
		*k.dst = b
	}
	if (c.IDHashKey == nil) != (c.DataKey == nil) {
		bad("COURIER_ID_HASH_KEY/COURIER_DATA_KEY", "set both or neither")
	}
	if v, err := secret(env, "COURIER_DIGEST_KEY"); err != nil {
		errs = append(errs, err)
	} else if v != "" {
		if seed, err := secrets.ParseKey(v); err != nil {
			bad("COURIER_DIGEST_KEY", "an Ed25519 seed is 32 bytes written as 64 hex digits or base64 (generate one with: openssl rand -hex 32)")
		} else {
			c.DigestKey = ed25519.NewKeyFromSeed(seed)
		}
	}
	if c.DatabaseURL != "" && c.IDHashKey == nil {
		bad("COURIER_ID_HASH_KEY", "required with DATABASE_URL (generate one with: openssl rand -hex 32)")
	}
	if v := env("COURIER_LOG_LEVEL"); v != "" {
		c.LogLevel = v
	}
	if !strings.Contains(" debug info warn error ", " "+c.LogLevel+" ") {
		bad("COURIER_LOG_LEVEL", "want debug, info, warn or error")
	}
	if v := env("COURIER_LOG_FORMAT"); v != "" {
		c.LogFormat = v
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("COURIER_LOG_FORMAT", "want text or json")
	}
	if v := env("COURIER_TOKEN_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 30*24*time.Hour {
			bad("COURIER_TOKEN_TTL", "want a duration between 1m and 720h, e.g. 12h")
		} else {
			c.TokenTTL = d
		}
	}
	for _, d := range []struct {
		name   string
		dst    *time.Duration
		lo, hi time.Duration
		want   string
	}{
		{"COURIER_SESSION_MAX", &c.SessionMax, time.Hour, 24 * time.Hour, "want a duration between 1h and 24h, e.g. 12h"},
		{"COURIER_SESSION_IDLE", &c.SessionIdle, 5 * time.Minute, 24 * time.Hour, "want a duration between 5m and COURIER_SESSION_MAX, e.g. 2h"},
	} {
		if v := env(d.name); v != "" {
			if x, err := time.ParseDuration(v); err != nil || x < d.lo || x > d.hi {
				bad(d.name, d.want)
			} else {
				*d.dst = x
			}
		}
	}
	if c.SessionIdle > c.SessionMax {
		bad("COURIER_SESSION_IDLE", "want a duration between 5m and COURIER_SESSION_MAX, e.g. 2h")
	}
	intVar := func(name string, dst *int, lo, hi int) {
		if v := env(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				bad(name, fmt.Sprintf("want a whole number from %d to %d", lo, hi))
				return
			}
			*dst = n
		}
	}
	maxConns := int(c.DBMaxConns)
	intVar("COURIER_DB_MAX_CONNS", &maxConns, 2, 1000)
	c.DBMaxConns = int32(maxConns)
	intVar("COURIER_TRACK_FREE_FAILURES", &c.TrackFree, 1, 100000)
	intVar("COURIER_TRACK_MAX_FAILURES", &c.TrackHard, 1, 1000000)
	intVar("COURIER_PASSWORD_COST", &c.PasswordCost, 4, 14)
	c.ProxyHeader = env("COURIER_PROXY_HEADER")
	for _, p := range strings.Split(env("COURIER_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			bad("COURIER_TRUSTED_PROXIES", "want addresses or CIDRs, e.g. 10.0.0.0/8,192.0.2.10")
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.ProxyHeader != "" && len(c.TrustedProxies) == 0 {
		bad("COURIER_PROXY_HEADER", "set COURIER_TRUSTED_PROXIES too: a header from anyone would let clients choose their own address")
	}
	switch env("COURIER_SCHEDULER") {
	case "", "on", "1":
		c.Scheduler = true
	case "off", "0":
	default:
		bad("COURIER_SCHEDULER", "want on or off")
	}
	if env("COURIER_TEST_CLUSTER") == "1" {
		c.DurableEmbedded = false
	}
	c.Couriers = loadCourierConfig(env, c.DatabaseURL == "", bad, &errs)
	return c, errors.Join(errs...)
}

// Redacted is the configuration with secrets hidden, for -config-dump.
func (c *Config) Redacted() map[string]string {
	hide := func(set bool) string {
		if set {
			return "(set)"
		}
		return "(unset)"
	}
	db := "(embedded)"
	if c.DatabaseURL != "" {
		db = redactURL(c.DatabaseURL)
	}
	owner := "(unset)"
	if c.DatabaseOwnerURL != "" {
		owner = redactURL(c.DatabaseOwnerURL)
	}
	cc := c.Couriers
	allow := make([]string, len(cc.PushAllow))
	for i, n := range cc.PushAllow {
		allow[i] = n.String()
	}
	return map[string]string{
		"COURIER_CARRIER_LEGS": cc.Legs, "COURIER_CARRIER_EXPRESS": cc.Express, "COURIER_COURIER_SIM": strconv.FormatBool(cc.Sim),
		"COURIER_SIM_SPEED": strconv.FormatFloat(cc.SimSpeed, 'g', -1, 64), "COURIER_SF_URL": cc.SF.URL,
		"COURIER_SF_PARTNER_ID": cc.SF.PartnerID, "COURIER_SF_CHECKWORD": hide(cc.SF.CheckWord != ""),
		"COURIER_SF_MONTHLY_CARD": cc.SF.MonthlyCard, "COURIER_EMS_URL": cc.EMS.URL, "COURIER_EMS_SENDER_NO": cc.EMS.SenderNo,
		"COURIER_EMS_AUTHORIZATION": hide(cc.EMS.Authorization != ""), "COURIER_EMS_SIGN_KEY": hide(cc.EMS.SignKey != ""),
		"COURIER_PUSH_TOKEN": hide(cc.PushToken != ""), "COURIER_PUSH_ALLOW": strings.Join(allow, ","),
		"DATABASE_URL": db, "DATABASE_OWNER_URL": owner, "COURIER_DATA_DIR": c.DataDir, "COURIER_ADDR": c.Addr,
		"COURIER_PUBLIC_URL": c.PublicURL, "COURIER_MIGRATE": strconv.FormatBool(c.Migrate), "COURIER_DEMO": strconv.FormatBool(c.Demo),
		"COURIER_TLS_CERT_FILE": c.TLSCert, "COURIER_TLS_KEY_FILE": c.TLSKey,
		"COURIER_ADMIN_PASSWORD": hide(c.AdminPassword != ""), "COURIER_ID_HASH_KEY": hide(c.IDHashKey != nil),
		"COURIER_DATA_KEY": hide(c.DataKey != nil), "COURIER_DIGEST_KEY": hide(c.DigestKey != nil), "COURIER_LOG_LEVEL": c.LogLevel, "COURIER_LOG_FORMAT": c.LogFormat,
		"COURIER_TOKEN_TTL": c.TokenTTL.String(), "COURIER_SESSION_MAX": c.SessionMax.String(),
		"COURIER_SESSION_IDLE": c.SessionIdle.String(), "COURIER_DB_MAX_CONNS": strconv.Itoa(int(c.DBMaxConns)),
		"COURIER_PASSWORD_COST": strconv.Itoa(c.PasswordCost),
		"COURIER_PROXY_HEADER":  c.ProxyHeader, "COURIER_TRUSTED_PROXIES": strings.Join(c.TrustedProxies, ","), "COURIER_TRACK_FREE_FAILURES": strconv.Itoa(c.TrackFree),
		"COURIER_TRACK_MAX_FAILURES": strconv.Itoa(c.TrackHard), "COURIER_SCHEDULER": strconv.FormatBool(c.Scheduler),
	}
}

// redactURL hides the password (and anything like it) of a connection string.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(set)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") || strings.Contains(strings.ToLower(k), "key") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}
