package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// The load generators below only ever talk to 127.0.0.1 (every address
// comes from freePort or from a listener bound there), and every loop ends
// at a deadline, when its work runs out, or when ctx is cancelled; each
// request is bounded by the client's read and write timeouts.

// registrationResult describes the set-up step that creates the parcels.
type registrationResult struct {
	Parcels int     `json:"parcels"`
	Workers int     `json:"workers"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"per_sec"`
}

// Where the benchmark's parcels go: a certificate from 商务局 (D-SW) to the
// city hall's issuing window (CC-WIN), a direct leg, collected there by the
// holder with their ID number.
const (
	benchOrigin   = "D-SW"
	benchHall     = "CC-WIN"
	benchHolderID = "11010519491231002X"
)

// registrationBody is the JSON of parcel i (application numbers are unique
// per origin and kind).
func registrationBody(i int) []byte {
	return fmt.Appendf(nil, `{"kind":"certificate","origin_site":"D-SW","destination":{"kind":"hall","site":"CC-WIN"},`+
		`"applicant":{"type":"natural","name":"张三","phone":"13812345678","id_type":"resident_id","id_number":"11010519491231002X"},`+
		`"certificate":{"type":"business_licence","number":"X%d"},"application_no":"BENCH-%d"}`, i, i)
}

// registerParcels registers n parcels (numbered from first) through the API
// with the given number of workers, each with its own keep-alive
// connection, and returns their waybill numbers. Any failure stops it.
func registerParcels(ctx context.Context, addr, token string, first, n, workers int) (registrationResult, []string, error) {
	r := registrationResult{Parcels: n, Workers: workers}
	waybills := make([]string, n)
	url := "http://" + addr + "/api/v1/parcels"
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			hc := newHostClient(addr, 1)
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				status, body, err := doRequest(hc, "POST", url, token, registrationBody(first+i))
				if err == nil && status != fasthttp.StatusCreated {
					err = fmt.Errorf("status %d: %s", status, truncate(body, 300))
				}
				var v struct {
					WaybillNo string `json:"waybill_no"`
				}
				if err == nil {
					err = json.Unmarshal(body, &v)
				}
				if err == nil && v.WaybillNo == "" {
					err = errors.New("no waybill_no in the answer")
				}
				if err != nil {
					cancel(fmt.Errorf("register parcel %d: %w", i, err))
					return
				}
				waybills[i] = v.WaybillNo
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return r, nil, err
	}
	r.Seconds = time.Since(start).Seconds()
	r.PerSec = float64(n) / r.Seconds
	return r, waybills, nil
}

// scanResult is the scan run.
type scanResult struct {
	Name             string             `json:"name"`
	Workers          int                `json:"workers"`
	OK               int64              `json:"ok"`      // 200 with "repeat": false
	Repeats          int64              `json:"repeats"` // 200 with "repeat": true (should not happen)
	Errors           int64              `json:"errors"`  // anything else
	ErrorSamples     []string           `json:"error_samples,omitempty"`
	Seconds          float64            `json:"seconds"`
	PerSec           float64            `json:"per_sec"`
	Nodes            int64              `json:"nodes,omitempty"` // pushes: route nodes accepted
	NodesPerSec      float64            `json:"nodes_per_sec,omitempty"`
	PickupsPerSec    float64            `json:"pickups_per_sec,omitempty"` // pushes: the baseline, the median pickup round`
	P50Ms            float64            `json:"p50_ms"`
	P99Ms            float64            `json:"p99_ms"`
	ParcelsUsed      int                `json:"parcels_used"`
	ParcelsExhausted bool               `json:"parcels_exhausted"`
	CPU              cpuUse             `json:"cpu"`
	Autovacuums      int64              `json:"autovacuums"` // autovacuum and autoanalyze runs that ended during the run
	WAL              walUse             `json:"wal"`
	PgbenchTPS       float64            `json:"pgbench_tps"`
	CPUPerScan       map[string]float64 `json:"cpu_us_per_scan"`
	CPUPerPgbenchTx  map[string]float64 `json:"cpu_us_per_pgbench_tx"`
	CostRatio        float64            `json:"cost_ratio"` // pgbench CPU/tx over service CPU/scan
	ByAction         map[string]int64   `json:"by_action"`
	Ratio            float64            `json:"ratio"`
	Target           float64            `json:"target"` // 0: informational
	Pass             bool               `json:"pass"`
}

// judge compares the scan rate with pgbench's TPS, and their CPU costs,
// against target (0: informational, passes when it ran clean).
func (s *scanResult) judge(p pgbenchResult, target float64) {
	tps := p.TPS
	s.PgbenchTPS, s.Target = tps, target
	s.CPUPerScan, s.CPUPerPgbenchTx = cpuPerOp(s.OK, s.CPU), cpuPerOp(p.Transactions, p.CPU)
	s.CostRatio = costRatio(s.CPUPerPgbenchTx, s.CPUPerScan)
	if tps > 0 {
		s.Ratio = s.PerSec / tps
	}
	s.Pass = s.Errors == 0 && s.Repeats == 0 && s.Ratio >= s.Target
}

// errorLog counts failed requests and keeps a few distinct samples.
type errorLog struct {
	mu      sync.Mutex
	n       int64
	samples []string
}

func (e *errorLog) add(msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if len(e.samples) < 5 {
		for _, s := range e.samples {
			if s == msg {
				return
			}
		}
		e.samples = append(e.samples, msg)
	}
}

// scanJob is one scan a worker sends: the token it is sent with, its
// body, the action (for the per-action counts) and what to do once it was
// applied (the mix hands the parcel on to its next stage).
type scanJob struct {
	token  string
	action string
	body   []byte
	done   func()
	// path is where it is POSTed ("": /api/v1/scans); a push is answered
	// as SF's protocol says (return_code 0000), not as a scan; nodes counts
	// a push's route nodes.
	path  string
	push  bool
	nodes int
}

// scanSource hands each worker its next scan; ok=false means the work ran
// out. It is called concurrently.
type scanSource func(worker, n int) (job scanJob, ok bool)

// scanBody is the JSON of one scan; extra is added fields, already JSON
// (e.g. `,"slot":"A-01"`).
func scanBody(waybill, action, site, scanID, extra string) []byte {
	return fmt.Appendf(nil, `{"code":%q,"action":%q,"scan_id":%q,"site":%q%s}`, waybill, action, scanID, site, extra)
}

// oneAction is the source of a single-action phase: one scan of `action`
// on each waybill in turn, as the given user at site. The second result
// lists, once the run is over, the waybills the action was applied to.
func oneAction(waybills []string, token, action, site, extra string) (scanSource, func() []string) {
	runID := randomHex(4)
	var (
		next atomic.Int64
		mu   sync.Mutex
		done []string
	)
	src := func(w, n int) (scanJob, bool) {
		i := int(next.Add(1)) - 1
		if i >= len(waybills) {
			return scanJob{}, false
		}
		wb := waybills[i]
		return scanJob{token: token, action: action,
			body: scanBody(wb, action, site, fmt.Sprintf("bench-%s-%d-%d", runID, w, n), extra),
			done: func() {
				mu.Lock()
				done = append(done, wb)
				mu.Unlock()
			}}, true
	}
	return src, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(done)
	}
}

// runScans has `workers` workers, each with its own keep-alive connection,
// POST the scans src hands out for `duration`, until the deadline or the
// work runs out. Only 200 answers with "repeat": false count.
func runScans(ctx context.Context, addr string, src scanSource, workers int, duration time.Duration) (scanResult, error) {
	r := scanResult{Workers: workers}
	url := "http://" + addr + "/api/v1/scans"
	var (
		ok, reps  atomic.Int64
		nodes     atomic.Int64
		used      atomic.Int64
		exhausted atomic.Bool
		errs      errorLog
		lats      = make([][]time.Duration, workers)
		byAction  sync.Map // action → *atomic.Int64
		wg        sync.WaitGroup
	)
	count := func(action string) {
		v, _ := byAction.LoadOrStore(action, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	c0 := takeCPU()
	start := time.Now()
	deadline := start.Add(duration)
	for w := range workers {
		wg.Go(func() {
			hc := newHostClient(addr, 1)
			lat := make([]time.Duration, 0, 1<<14)
			defer func() { lats[w] = lat }()
			for n := 0; ctx.Err() == nil && time.Now().Before(deadline); n++ {
				job, more := src(w, n)
				if !more {
					exhausted.Store(true)
					return
				}
				used.Add(1)
				t0 := time.Now()
				to := url
				if job.path != "" {
					to = "http://" + addr + job.path
				}
				status, resp, err := doRequest(hc, "POST", to, job.token, job.body)
				elapsed := time.Since(t0)
				switch {
				case err != nil:
					errs.add(err.Error())
				case status != fasthttp.StatusOK:
					errs.add(fmt.Sprintf("%s: status %d: %s", job.action, status, truncate(resp, 200)))
				case job.push:
					var v struct {
						ReturnCode string `json:"return_code"`
					}
					if err := json.Unmarshal(resp, &v); err != nil || v.ReturnCode != "0000" {
						errs.add("push not accepted: " + truncate(resp, 200))
					} else {
						ok.Add(1)
						nodes.Add(int64(job.nodes))
						count(job.action)
						lat = append(lat, elapsed)
					}
				default:
					var v struct {
						Repeat *bool `json:"repeat"`
					}
					if err := json.Unmarshal(resp, &v); err != nil || v.Repeat == nil {
						errs.add("200 without a repeat field: " + truncate(resp, 200))
					} else if *v.Repeat {
						reps.Add(1)
					} else {
						ok.Add(1)
						count(job.action)
						lat = append(lat, elapsed)
						if job.done != nil {
							job.done()
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return r, err
	}
	r.Seconds = time.Since(start).Seconds()
	r.CPU = c0.until(takeCPU())
	r.OK, r.Repeats, r.Errors, r.ErrorSamples = ok.Load(), reps.Load(), errs.n, errs.samples
	r.PerSec = float64(r.OK) / r.Seconds
	r.Nodes = nodes.Load()
	r.NodesPerSec = float64(r.Nodes) / r.Seconds
	r.ParcelsUsed = int(used.Load())
	r.ParcelsExhausted = exhausted.Load()
	r.ByAction = map[string]int64{}
	byAction.Range(func(k, v any) bool {
		r.ByAction[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	all := merge(lats)
	r.P50Ms, r.P99Ms = ms(percentile(all, 50)), ms(percentile(all, 99))
	return r, nil
}

// hallMix is the source of the mixed run: parcels flow through pickup (the
// courier at the department), receive, shelve and collect (staff at the
// hall), each scan on its own parcel; a worker takes the most advanced
// stage that has work, so the four actions run side by side.
func hallMix(waybills []string, courierTok, staffTok string, st stages) scanSource {
	runID := randomHex(4)
	type stage struct {
		action, token, site, extra string
		q                          chan string
	}
	n := len(waybills)
	ss := []*stage{
		{action: "collect", token: staffTok, site: st.hall, extra: st.collectExtra, q: make(chan string, n)},
		{action: "shelve", token: staffTok, site: st.hall, extra: st.shelveExtra, q: make(chan string, n)},
		{action: "receive", token: staffTok, site: st.hall, q: make(chan string, n)},
		{action: "pickup", token: courierTok, site: st.origin, q: make(chan string, n)},
	}
	for _, wb := range waybills {
		ss[3].q <- wb
	}
	return func(w, i int) (scanJob, bool) {
		for k, s := range ss {
			select {
			case wb := <-s.q:
				job := scanJob{token: s.token, action: s.action,
					body: scanBody(wb, s.action, s.site, fmt.Sprintf("mix-%s-%d-%d", runID, w, i), s.extra)}
				if k > 0 {
					next := ss[k-1].q
					job.done = func() { next <- wb }
				}
				return job, true
			default:
			}
		}
		return scanJob{}, false
	}
}

// stages says where the measured journey runs and what the hall's scans
// carry.
type stages struct {
	origin, hall string
	shelveExtra  string // e.g. the slot
	collectExtra string // the holder's ID number
}

// trackRound is one timed load run against one target.
type trackRound struct {
	Requests int64    `json:"requests"` // 200 answers in the timed part
	Errors   int64    `json:"errors"`
	Samples  []string `json:"error_samples,omitempty"`
	Seconds  float64  `json:"seconds"`
	RPS      float64  `json:"rps"`
	P50Ms    float64  `json:"p50_ms"`
	P90Ms    float64  `json:"p90_ms"`
	P99Ms    float64  `json:"p99_ms"`
	MaxMs    float64  `json:"max_ms"`
	Bytes    float64  `json:"avg_body_bytes"` // mean response body size
	CPU      cpuUse   `json:"cpu"`            // during the timed part
}

// runTrackRound loads urlPrefix+<random waybill> with conns concurrent
// keep-alive connections (one fasthttp.HostClient, one goroutine per
// connection): warmup untimed, then duration timed. Every latency of a 200
// answer in the timed part is recorded; percentiles are exact.
func runTrackRound(ctx context.Context, addr, urlPrefix string, waybills []string, conns int, warmup, duration time.Duration) (trackRound, error) {
	var r trackRound
	hc := newHostClient(addr, conns)
	var (
		errs      errorLog
		lats      = make([][]time.Duration, conns)
		bodyBytes atomic.Int64
		wg        sync.WaitGroup
	)
	start := time.Now()
	timed := start.Add(warmup)
	deadline := timed.Add(duration)
	cpuAtTimed := make(chan cpuSnapshot, 1)
	time.AfterFunc(warmup, func() { cpuAtTimed <- takeCPU() })
	for w := range conns {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(w)))
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			lat := make([]time.Duration, 0, 1<<13)
			defer func() { lats[w] = lat }()
			uri := make([]byte, 0, len(urlPrefix)+32)
			var body int64
			defer func() { bodyBytes.Add(body) }()
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				uri = append(append(uri[:0], urlPrefix...), waybills[rng.IntN(len(waybills))]...)
				req.SetRequestURIBytes(uri)
				err := hc.Do(req, resp)
				t1 := time.Now()
				if t0.Before(timed) || t1.After(deadline) {
					continue // warm-up, or finished after the deadline: not counted
				}
				switch {
				case err != nil:
					errs.add(err.Error())
				case resp.StatusCode() != fasthttp.StatusOK:
					errs.add(fmt.Sprintf("status %d: %s", resp.StatusCode(), truncate(resp.Body(), 200)))
				default:
					lat = append(lat, t1.Sub(t0))
					body += int64(len(resp.Body()))
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return r, err
	}
	r.CPU = (<-cpuAtTimed).until(takeCPU())
	all := merge(lats)
	r.Requests, r.Errors, r.Samples = int64(len(all)), errs.n, errs.samples
	r.Seconds = duration.Seconds()
	r.RPS = float64(r.Requests) / r.Seconds
	r.P50Ms, r.P90Ms, r.P99Ms = ms(percentile(all, 50)), ms(percentile(all, 90)), ms(percentile(all, 99))
	r.MaxMs = ms(percentile(all, 100))
	if r.Requests > 0 {
		r.Bytes = float64(bodyBytes.Load()) / float64(r.Requests)
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("no successful request (%d errors, e.g. %v)", r.Errors, r.Samples)
	}
	return r, nil
}

// trackResult is the alternating track comparison.
type trackResult struct {
	Conns         int          `json:"conns"`
	Baseline      []trackRound `json:"baseline_rounds"`
	Service       []trackRound `json:"service_rounds"`
	BaselineRPS   float64      `json:"baseline_rps_median"`
	ServiceRPS    float64      `json:"service_rps_median"`
	BaselineP50Ms float64      `json:"baseline_p50_ms_median"`
	BaselineP99Ms float64      `json:"baseline_p99_ms_median"`
	ServiceP50Ms  float64      `json:"service_p50_ms_median"`
	ServiceP99Ms  float64      `json:"service_p99_ms_median"`
	// CPU microseconds per request by process, over all rounds.
	BaselineCPUPerReq map[string]float64 `json:"baseline_cpu_us_per_req"`
	ServiceCPUPerReq  map[string]float64 `json:"service_cpu_us_per_req"`
	CostRatio         float64            `json:"cost_ratio"` // baseline CPU/req over service CPU/req
	BaselineErrors    int64              `json:"baseline_errors"`
	ServiceErrors     int64              `json:"service_errors"`
	Ratio             float64            `json:"ratio"`
	RatioTarget       float64            `json:"ratio_target"`
	P99TargetMs       float64            `json:"p99_target_ms"` // trackP99Ratio × the baseline's p99`
	RatioPass         bool               `json:"ratio_pass"`
	P99Pass           bool               `json:"p99_pass"`
	Pass              bool               `json:"pass"`
}

// judge takes the medians over rounds and checks the targets. Errors on
// either side fail the comparison.
func (t *trackResult) judge() {
	field := func(rs []trackRound, f func(trackRound) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return median(v)
	}
	rps := func(r trackRound) float64 { return r.RPS }
	p50 := func(r trackRound) float64 { return r.P50Ms }
	p99 := func(r trackRound) float64 { return r.P99Ms }
	t.BaselineRPS, t.ServiceRPS = field(t.Baseline, rps), field(t.Service, rps)
	t.BaselineP50Ms, t.BaselineP99Ms = field(t.Baseline, p50), field(t.Baseline, p99)
	t.ServiceP50Ms, t.ServiceP99Ms = field(t.Service, p50), field(t.Service, p99)
	perReq := func(rs []trackRound) map[string]float64 {
		var n int64
		uses := make([]cpuUse, len(rs))
		for i, r := range rs {
			n += r.Requests
			uses[i] = r.CPU
		}
		return cpuPerOp(n, uses...)
	}
	t.BaselineCPUPerReq, t.ServiceCPUPerReq = perReq(t.Baseline), perReq(t.Service)
	t.CostRatio = costRatio(t.BaselineCPUPerReq, t.ServiceCPUPerReq)
	for _, r := range t.Baseline {
		t.BaselineErrors += r.Errors
	}
	for _, r := range t.Service {
		t.ServiceErrors += r.Errors
	}
	t.RatioTarget, t.P99TargetMs = trackRatioTarget, trackP99Ratio*t.BaselineP99Ms
	if t.BaselineRPS > 0 {
		t.Ratio = t.ServiceRPS / t.BaselineRPS
	}
	clean := t.BaselineErrors == 0 && t.ServiceErrors == 0
	t.RatioPass = clean && t.Ratio >= t.RatioTarget
	t.P99Pass = clean && t.ServiceP99Ms <= t.P99TargetMs
	t.Pass = t.RatioPass && t.P99Pass
}
