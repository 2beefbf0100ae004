package main

// The -import mode: a department's bulk import of an XLSX export through
// the service's own code (svc.Imports over postgres.Ledger, as the
// desk's page calls it) on a durable cluster.
//
//	go run ./cmd/courier-bench -import [-import-sizes 1000,5000,10000] [-rounds 3] [-keep] [-out import.json] [-strict]
//
// For each size and round, on one database (each file of new application
// numbers): an XLSX of that many good rows is made with the template's
// columns (halls and certificate types by their Chinese names, as the
// approval platform exports them); then, timed:
//
//   - read: sheet.Read alone, the floor the XLSX library sets (the
//     baseline of the preview);
//   - preview: read, every row checked as a registration, the draft kept
//     encrypted (svc.Imports.Preview);
//   - commit: the good rows registered in one transaction
//     (svc.Imports.Commit), checked afterwards by counting the parcels,
//     people, links and first events of the batch.
//
// The Go heap is sampled every millisecond during preview and commit
// (runtime/metrics, live heap objects), after a GC: the peak above the heap
// before the import, per size, shows how memory grows with the file.
//
// Targets: a 5,000-row XLSX previewed and registered in at most 10 s
// (median of the rounds). Memory flat: nothing kept after an import (the
// heap after it and a GC at most 1 MB above the heap before, from the
// second round on: the first fills the statement and route caches); the
// peak per row of the largest size at most 1.25× the smallest's (no growth
// faster than the file); and the largest at most importHeapPerRow a row
// (10,000 rows under 64 MB). The rows of a preview are kept until the
// clerk chooses, so the peak grows with the file, bounded by its limit.

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/secrets"
	svc "github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/internal/sheet"
	"github.com/changchun-gov/courier/shipment"
)

const (
	importTargetRows    = 5000
	importTargetSeconds = 10.0
	// importHeapPerRow bounds the heap an import may take per row of its
	// file (the rows, their checks and the draft are kept until the
	// choice): 6.4 KB a row, 64 MB for the largest file allowed.
	importHeapPerRow = 6554
)

type importRound struct {
	ReadS         float64 `json:"read_s"`
	PreviewS      float64 `json:"preview_s"`
	CommitS       float64 `json:"commit_s"`
	PeakMB        float64 `json:"peak_heap_mb"`         // above the heap before the import
	PreviewPeakMB float64 `json:"preview_peak_heap_mb"` // the same, until the preview was answered
	AllocMB       float64 `json:"allocated_mb"`         // allocated in all
	KeptMB        float64 `json:"kept_heap_mb"`         // above the heap before, after the import and a GC
	CPU           cpuUse  `json:"cpu"`
}

type importSize struct {
	Rows    int           `json:"rows"`
	FileKB  float64       `json:"file_kb"`
	Rounds  []importRound `json:"rounds"`
	TotalS  float64       `json:"median_total_s"` // preview + commit
	ReadS   float64       `json:"median_read_s"`
	PeakMB  float64       `json:"max_peak_heap_mb"`
	KeptMB  float64       `json:"max_kept_heap_mb"` // after the first round
	Created int           `json:"created_per_round"`
}

type importResult struct {
	Started  string       `json:"started"`
	Command  string       `json:"command"`
	Machine  machine      `json:"machine"`
	Sizes    []importSize `json:"sizes"`
	TimePass bool         `json:"time_pass"`
	HeapPass bool         `json:"heap_pass"`
	Pass     bool         `json:"pass"`
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > svc.ImportMaxRows {
			return nil, fmt.Errorf("-import-sizes: each size must be from 1 to %d", svc.ImportMaxRows)
		}
		out = append(out, n)
	}
	return out, nil
}

// importFile is an XLSX of n good rows, application numbers from prefix.
func importFile(prefix string, n int) ([]byte, error) {
	hdr, _ := svc.ImportTemplate(shipment.KindCertificate)
	halls := []string{"长春市政务服务中心 出证窗口", "二道区政务服务中心", "南关区政务服务中心", "农安县政务服务中心", "净月高新区政务服务中心"}
	types := []string{"营业执照", "食品经营许可证", "对外贸易经营者备案登记表"}
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("%s-%06d", prefix, i), types[i%len(types)], "ZZ-" + strconv.Itoa(i), "个人",
			"王小明", "", fmt.Sprintf("139%08d", i), "居民身份证", "11010519491231002X", halls[i%len(halls)], ""}
	}
	return sheet.XLSX("导出", hdr, rows)
}

// heapSampler records the peak of the live heap while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := liveHeap(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) end() uint64 { close(h.stop); <-h.done; return h.peak.Load() }

func (b *bench) measureImport(ctx context.Context) (*importResult, error) {
	o := b.opts
	sizes, err := parseSizes(o.importSizes)
	if err != nil {
		return nil, err
	}
	res := &importResult{Started: time.Now().UTC().Format(time.RFC3339),
		Command: fmt.Sprintf("go run ./cmd/courier-bench -import -import-sizes %s -rounds %d", o.importSizes, o.rounds),
		Machine: machineInfo()}
	if res.Machine.BackgroundPct, err = b.prepare(ctx); err != nil {
		return nil, err
	}
	if err := b.startClusterFor(ctx, &res.Machine); err != nil {
		return nil, err
	}
	const db = "importbench"
	if err := createDatabase(ctx, b.cluster, db); err != nil {
		return nil, err
	}
	pool, err := postgres.Open(ctx, b.cluster.ConnString(db), runsPoolSize)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
		return nil, err
	}
	if err := postgres.SeedReference(ctx, pool); err != nil {
		return nil, err
	}
	ref, err := postgres.LoadRefData(ctx, pool)
	if err != nil {
		return nil, err
	}
	keys, err := secrets.Generate()
	if err != nil {
		return nil, err
	}
	routes := &postgres.Routes{Pool: pool, Ref: ref, Now: time.Now}
	ledger := &postgres.Ledger{Pool: pool, Ref: ref, Keys: keys, Now: time.Now, Routes: routes}
	users := &postgres.Users{Pool: pool, Ref: ref, Cost: 4, TokenTTL: time.Hour, Now: time.Now}
	u, err := users.Create(ctx, shipment.NewUser{Username: "bench-clerk", Password: "bench-password-1", Role: shipment.RoleClerk, Site: "D-SW"})
	if err != nil {
		return nil, err
	}
	clerk := shipment.Actor{ID: u.ID, Username: u.Username, Role: u.Role, Site: u.Site}
	im := &svc.Imports{Parcels: &svc.Parcels{Store: ledger, Keys: keys, Ref: ref, Routes: routes, Now: time.Now},
		Store: ledger, Now: time.Now, Sites: ref.Sites, CertTypes: ref.CertTypes}

	for si, n := range sizes {
		sz := importSize{Rows: n}
		for r := range o.rounds {
			prefix := fmt.Sprintf("B%d-R%d", si, r)
			file, err := importFile(prefix, n)
			if err != nil {
				return nil, err
			}
			sz.FileKB = float64(len(file)) / 1024
			var ir importRound
			t0 := time.Now()
			if _, err := sheet.Read("导出.xlsx", file, svc.ImportMaxRows); err != nil {
				return nil, err
			}
			ir.ReadS = time.Since(t0).Seconds()

			runtime.GC()
			var ms0 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			before := liveHeap()
			h := startHeapSampler()
			c0 := takeCPU()
			t0 = time.Now()
			p, err := im.Preview(ctx, clerk, "导出.xlsx", file)
			if err != nil {
				h.end()
				return nil, err
			}
			ir.PreviewS = time.Since(t0).Seconds()
			ir.PreviewPeakMB = float64(h.peak.Load()-min(h.peak.Load(), before)) / 1e6
			if len(p.Good) != n || len(p.Refused) != 0 {
				h.end()
				return nil, fmt.Errorf("%d rows: %d good, %d refused (first %+v)", n, len(p.Good), len(p.Refused), p.Refused[:min(1, len(p.Refused))])
			}
			t0 = time.Now()
			done, err := im.Commit(ctx, clerk, p.ID, "import")
			ir.CommitS = time.Since(t0).Seconds()
			ir.CPU = c0.until(takeCPU())
			peak := h.end()
			if err != nil {
				return nil, err
			}
			var ms1 runtime.MemStats
			runtime.ReadMemStats(&ms1)
			ir.PeakMB = float64(peak-min(peak, before)) / 1e6
			ir.AllocMB = float64(ms1.TotalAlloc-ms0.TotalAlloc) / 1e6
			created := done.Result.Created
			runtime.GC()
			ir.KeptMB = float64(liveHeap()-min(liveHeap(), before)) / 1e6
			var got int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM parcels p JOIN parcel_people pp ON pp.parcel_id = p.id
				JOIN parcel_links pl ON pl.parcel_id = p.id JOIN events e ON e.parcel_id = p.id AND e.seq = 1
				WHERE p.waybill_no = ANY($1) AND p.application_no LIKE $2`, created, prefix+"-%").Scan(&got); err != nil {
				return nil, err
			}
			if got != n || len(created) != n {
				return nil, fmt.Errorf("%d rows: %d registered, %d complete in the database", n, len(created), got)
			}
			sz.Created = n
			sz.Rounds = append(sz.Rounds, ir)
			b.logf("%d rows (%.0f KB), round %d/%d: read %.2fs, preview %.2fs, commit %.2fs; heap peak +%.1f MB (preview +%.1f MB), allocated %.0f MB, kept +%.1f MB (verified)",
				n, sz.FileKB, r+1, o.rounds, ir.ReadS, ir.PreviewS, ir.CommitS, ir.PeakMB, ir.PreviewPeakMB, ir.AllocMB, ir.KeptMB)
		}
		var tot, rd []float64
		for _, x := range sz.Rounds {
			tot, rd = append(tot, x.PreviewS+x.CommitS), append(rd, x.ReadS)
			sz.PeakMB = max(sz.PeakMB, x.PeakMB)
		}
		for _, x := range sz.Rounds[min(1, len(sz.Rounds)-1):] {
			sz.KeptMB = max(sz.KeptMB, x.KeptMB) // the first round fills the caches (statements, routes)
		}
		sz.TotalS, sz.ReadS = median(tot), median(rd)
		res.Sizes = append(res.Sizes, sz)
	}
	res.TimePass, res.HeapPass = true, true
	largest := slices.MaxFunc(res.Sizes, func(a, b importSize) int { return a.Rows - b.Rows })
	for _, sz := range res.Sizes {
		if sz.Rows == importTargetRows && sz.TotalS > importTargetSeconds {
			res.TimePass = false
		}
	}
	if !slices.ContainsFunc(res.Sizes, func(s importSize) bool { return s.Rows == importTargetRows }) {
		res.TimePass = false // the target's size was not measured
	}
	smallest := slices.MinFunc(res.Sizes, func(a, b importSize) int { return a.Rows - b.Rows })
	perRow := func(s importSize) float64 { return s.PeakMB * 1e6 / float64(s.Rows) }
	for _, s := range res.Sizes {
		if s.KeptMB > 1 {
			res.HeapPass = false // a later round kept heap: a leak
		}
	}
	if largest.PeakMB*1e6 > float64(largest.Rows*importHeapPerRow) || perRow(largest) > 1.25*perRow(smallest) {
		res.HeapPass = false
	}
	res.Pass = res.TimePass && res.HeapPass
	return res, nil
}

func printImportReport(w io.Writer, r *importResult) {
	printHeader(w, "-import", r.Started, r.Command, r.Machine)
	fmt.Fprintf(w, "\nIMPORT of an XLSX of good rows by a clerk of D-SW (svc.Imports: preview, then commit in one transaction); medians of %d rounds\n",
		len(r.Sizes[0].Rounds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  rows\tfile KB\tread only (baseline) s\tpreview s\tcommit s\tpreview+commit s\theap peak MB (max)\theap kept MB\tallocated MB\n")
	for _, s := range r.Sizes {
		var pv, cm, al []float64
		for _, x := range s.Rounds {
			pv, cm, al = append(pv, x.PreviewS), append(cm, x.CommitS), append(al, x.AllocMB)
		}
		fmt.Fprintf(tw, "  %d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%.0f\n", s.Rows, s.FileKB, s.ReadS, median(pv), median(cm),
			s.TotalS, s.PeakMB, s.KeptMB, median(al))
	}
	tw.Flush()
	fmt.Fprintf(w, "\ntarget: %d rows previewed and registered in ≤ %.0f s: %s\n", importTargetRows, importTargetSeconds, passFail(r.TimePass))
	fmt.Fprintf(w, "target: memory flat — nothing kept after an import (≤ 1 MB, after the first round), the heap peak per row of the largest file "+
		"≤ 1.25× the smallest's and ≤ %.1f KB (64 MB for %d rows): %s\n", float64(importHeapPerRow)/1000, svc.ImportMaxRows, passFail(r.HeapPass))
}

// printHeader writes the first lines of a mode's report: when, how and on
// what it ran.
func printHeader(w io.Writer, mode, started, command string, m machine) {
	fmt.Fprintf(w, "\ncourier-bench %s — %s\n", mode, started)
	fmt.Fprintf(w, "command: %s\n", command)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s %s/%s; PostgreSQL %s on %s (%s)\n",
		m.CPUs, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch, m.PostgreSQL, m.FSType, m.ClusterDir)
	fmt.Fprintf(w, "durability: fsync=%s synchronous_commit=%s full_page_writes=%s\n", m.Fsync, m.SynchronousCommit, m.FullPageWrites)
	fmt.Fprintf(w, "background load before the run: %.0f%% of the CPU\n", m.BackgroundPct)
}
