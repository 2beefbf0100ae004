package main

// The -list mode: the desk's list pages on a city's year of parcels.
//
//	go run ./cmd/courier-bench -list [-list-parcels 1000000] [-list-requests 200] [-keep] [-out list.json] [-strict]
//
// One run starts its own durable cluster and the courier on it, fills the
// database with a generated year (postgres.GenerateYear: -list-parcels
// parcels, about 8 events each, through the chain triggers), vacuums and
// analyses it, signs users in through the sign-in page as a browser does
// (a department's clerk, the city window's and a county hall's staff, the
// hub's), and then asks each list page -list-requests times, one request at
// a time after ten untimed ones: the newest parcels, by status, by
// destination, by a month of registration, a search by application number
// and by name, the next page by the cursor. Each page is the whole HTML
// answer, timed at the client. Target: every page's p95 ≤ 50 ms.
//
// Baseline: the same service's /livez on the same connection (the cost of a
// request that reads nothing), reported beside each page.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/secrets"
)

const listTargetP95 = 50 * time.Millisecond

type listPage struct {
	Who    string  `json:"who"`
	Page   string  `json:"page"`
	Items  int     `json:"items"`
	P50Ms  float64 `json:"p50_ms"`
	P95Ms  float64 `json:"p95_ms"`
	MaxMs  float64 `json:"max_ms"`
	Pass   bool    `json:"pass"`
	Status int     `json:"status"`
}

type listResult struct {
	Started     string     `json:"started"`
	Command     string     `json:"command"`
	Machine     machine    `json:"machine"`
	Parcels     int        `json:"parcels"`
	Events      int        `json:"events"`
	GenerateS   float64    `json:"generate_s"`
	DBSizeMB    float64    `json:"db_size_mb"`
	Requests    int        `json:"requests"`
	BaselineP95 float64    `json:"baseline_p95_ms"`
	Pages       []listPage `json:"pages"`
	Pass        bool       `json:"pass"`
}

// browserSession signs a user in through the sign-in page, as a browser
// does (the CSRF cookie and field, then the session cookie).
func browserSession(ctx context.Context, base, user, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/login", nil)
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("sign-in page: no CSRF field (status %d)", res.StatusCode)
	}
	form := url.Values{"username": {user}, "password": {password}, "_csrf": {string(m[1])}, "next": {"/"}}
	req, _ = http.NewRequestWithContext(ctx, "POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = c.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path == "/login" {
		return nil, fmt.Errorf("sign-in as %s: status %d at %s", user, res.StatusCode, res.Request.URL)
	}
	return c, nil
}

// timeGets asks path n times after ten untimed asks and answers the
// sorted durations, the last status and body.
func timeGets(ctx context.Context, c *http.Client, url string, n int) ([]time.Duration, int, []byte, error) {
	var durs []time.Duration
	var body []byte
	status := 0
	for i := range n + 10 {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		t0 := time.Now()
		res, err := c.Do(req)
		if err != nil {
			return nil, 0, nil, err
		}
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t0)
		if err != nil {
			return nil, 0, nil, err
		}
		status = res.StatusCode
		if i >= 10 {
			durs = append(durs, d)
		}
	}
	slices.Sort(durs)
	return durs, status, body, nil
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (b *bench) measureList(ctx context.Context) (*listResult, error) {
	o := b.opts
	res := &listResult{Started: time.Now().UTC().Format(time.RFC3339), Machine: machineInfo(), Parcels: o.listParcels,
		Requests: o.listRequests, Command: fmt.Sprintf("go run ./cmd/courier-bench -list -list-parcels %d -list-requests %d",
			o.listParcels, o.listRequests)}
	var err error
	if res.Machine.BackgroundPct, err = b.prepare(ctx); err != nil {
		return nil, err
	}
	bin, err := b.buildFromTree(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.startClusterFor(ctx, &res.Machine); err != nil {
		return nil, err
	}
	if err := createDatabase(ctx, b.cluster, "courier"); err != nil {
		return nil, err
	}
	if b.service, err = startService(ctx, bin, b.workDir, b.cluster.ConnString("courier"), o.serverProcs); err != nil {
		return nil, err
	}
	pool, err := postgres.Open(ctx, b.cluster.ConnString("courier"), 4)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	keys, err := secrets.Generate()
	if err != nil {
		return nil, err
	}
	b.logf("generating a year: %d parcels", o.listParcels)
	t0 := time.Now()
	next := 0
	err = postgres.GenerateYear(ctx, pool, keys, postgres.GenerateOptions{Parcels: o.listParcels, Workers: 2,
		Progress: func(d int) {
			if d >= next {
				b.logf("  %d parcels (%.0fs)", d, time.Since(t0).Seconds())
				next = d + o.listParcels/10
			}
		}})
	if err != nil {
		return nil, err
	}
	res.GenerateS = time.Since(t0).Seconds()
	b.logf("generated in %.0fs; VACUUM ANALYZE", res.GenerateS)
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), pg_database_size(current_database()) / 1e6`).
		Scan(&res.Events, &res.DBSizeMB); err != nil {
		return nil, err
	}
	b.logf("%d events, %.0f MB", res.Events, res.DBSizeMB)
	var appNo, name string
	if err := pool.QueryRow(ctx, `SELECT p.application_no, pp.name FROM parcels p JOIN parcel_people pp ON pp.parcel_id = p.id
		WHERE p.origin_site = 'D-SW' ORDER BY p.id LIMIT 1 OFFSET 1000`).Scan(&appNo, &name); err != nil {
		return nil, err
	}

	api := newAPI(b.service.addr)
	adminTok, err := api.token(ctx, "admin", b.service.adminPassword)
	if err != nil {
		return nil, err
	}
	base := "http://" + b.service.addr
	users := []struct{ name, role, site string }{{"bench.clerk", "clerk", "D-SW"}, {"bench.win", "staff", "CC-WIN"},
		{"bench.county", "staff", "NA-HALL"}, {"bench.hub", "staff", "CC-HUB"}}
	clients := map[string]*http.Client{}
	for _, u := range users {
		password := "bench-" + randomHex(12)
		if err := api.call(ctx, "/api/v1/users", adminTok, map[string]string{"username": u.name, "password": password,
			"role": u.role, "site": u.site}, fasthttp.StatusCreated, nil); err != nil {
			return nil, err
		}
		if clients[u.name], err = browserSession(ctx, base, u.name, password); err != nil {
			return nil, err
		}
	}
	live, _, _, err := timeGets(ctx, clients["bench.clerk"], base+"/livez", o.listRequests)
	if err != nil {
		return nil, err
	}
	res.BaselineP95 = msOf(percentile(live, 95))
	month := time.Now().AddDate(0, -3, 0).Format("2006-01")
	last := time.Date(time.Now().Year(), time.Now().Month()-2, 0, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	pages := []struct{ who, page string }{
		{"bench.clerk", "/desk/parcels"},
		{"bench.clerk", "/desk/parcels?status=ready"},
		{"bench.clerk", "/desk/parcels?dest=NA-HALL"},
		{"bench.clerk", "/desk/parcels?from=" + month + "-01&to=" + last},
		{"bench.clerk", "/desk/parcels?status=returned&dest=YS-HALL"},
		{"bench.clerk", "/desk/parcels?status=returned"},
		{"bench.clerk", "/desk/parcels?q=" + url.QueryEscape(appNo)},
		{"bench.clerk", "/desk/parcels?q=" + url.QueryEscape(name)},
		{"bench.clerk", "next page"},
		{"bench.win", "/desk/parcels"},
		{"bench.win", "/desk/parcels?status=ready"},
		{"bench.win", "/desk/parcels?status=cancelled"},
		{"bench.county", "/desk/parcels"},
		{"bench.county", "/desk/parcels?status=exception"},
		{"bench.hub", "/desk/parcels"},
		{"bench.hub", "/desk/parcels?status=in_transit"},
	}
	itemRe := regexp.MustCompile(`<li><a class="no" href="/desk/parcels/`)
	nextRe := regexp.MustCompile(`href="(/desk/parcels\?[^"]*cursor=[^"]+)"`)
	res.Pass = true
	var nextPage string
	for _, p := range pages {
		path := p.page
		if path == "next page" {
			if nextPage == "" {
				return nil, fmt.Errorf("the clerk's first page has no next page")
			}
			path = strings.ReplaceAll(nextPage, "&amp;", "&")
		}
		durs, status, body, err := timeGets(ctx, clients[p.who], base+path, o.listRequests)
		if err != nil {
			return nil, err
		}
		if p.who == "bench.clerk" && p.page == "/desk/parcels" {
			if m := nextRe.FindSubmatch(body); m != nil {
				nextPage = string(m[1])
			}
		}
		lp := listPage{Who: p.who, Page: p.page, Items: len(itemRe.FindAll(body, -1)), P50Ms: msOf(percentile(durs, 50)),
			P95Ms: msOf(percentile(durs, 95)), MaxMs: msOf(durs[len(durs)-1]), Status: status}
		lp.Pass = status == 200 && percentile(durs, 95) <= listTargetP95
		res.Pass = res.Pass && lp.Pass
		res.Pages = append(res.Pages, lp)
		b.logf("%-12s %-50s %3d items: p50 %.1f ms, p95 %.1f ms, max %.1f ms (%d)", p.who, p.page, lp.Items, lp.P50Ms, lp.P95Ms, lp.MaxMs, status)
	}
	return res, nil
}

func printListReport(w io.Writer, r *listResult) {
	printHeader(w, "-list", r.Started, r.Command, r.Machine)
	fmt.Fprintf(w, "data: %d parcels, %d events (postgres.GenerateYear in %.0fs), database %.0f MB\n", r.Parcels, r.Events, r.GenerateS, r.DBSizeMB)
	fmt.Fprintf(w, "\nDESK LIST pages, whole HTML answers, one request at a time, %d each after 10 untimed; baseline /livez p95 %.1f ms\n",
		r.Requests, r.BaselineP95)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  user\tpage\titems\tp50 ms\tp95 ms\tmax ms\ttarget p95 ≤ %d ms\n", listTargetP95.Milliseconds())
	for _, p := range r.Pages {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%s\n", p.Who, p.Page, p.Items, p.P50Ms, p.P95Ms, p.MaxMs, passFail(p.Pass))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nOVERALL: %s\n", passFail(r.Pass))
}

// generateInto fills the migrated database at url with a generated year
// (-list-parcels parcels). Its holders' ID hashes are made with fresh keys:
// the generated parcels are for lists and scans, not for handovers by ID.
func (b *bench) generateInto(ctx context.Context, url string) error {
	pool, err := postgres.Open(ctx, url, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	st, err := postgres.Schema(ctx, pool)
	if err != nil {
		return err
	}
	if st.Behind() {
		return fmt.Errorf("the database is not migrated: start the courier on it once, or run courier migrate")
	}
	keys, err := secrets.Generate()
	if err != nil {
		return err
	}
	t0, next := time.Now(), 0
	err = postgres.GenerateYear(ctx, pool, keys, postgres.GenerateOptions{Parcels: b.opts.listParcels, Progress: func(d int) {
		if d >= next {
			b.logf("  %d parcels (%.0fs)", d, time.Since(t0).Seconds())
			next = d + b.opts.listParcels/10
		}
	}})
	if err != nil {
		return err
	}
	b.logf("generated %d parcels in %.0fs", b.opts.listParcels, time.Since(t0).Seconds())
	_, err = pool.Exec(ctx, `VACUUM ANALYZE`)
	return err
}
