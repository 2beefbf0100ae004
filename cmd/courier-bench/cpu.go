package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// The bench shares the machine with whatever else runs on it. To tell a
// quiet run from a disturbed one, each timed run records how the CPU time of
// the whole machine split between this process tree (the bench, the courier,
// PostgreSQL and its backends, pgbench) and everything else (other
// processes, kernel threads, time stolen by the hypervisor). Linux only;
// elsewhere the figures stay zero.

// cpuSnapshot is the machine's CPU time and this process tree's, in clock
// ticks (USER_HZ).
type cpuSnapshot struct {
	ok                bool
	total, busy, ours uint64
	byName            map[string]uint64 // our processes' ticks by command name
}

// cpuUse is how a run used the machine, in percent of all cores' capacity.
type cpuUse struct {
	BusyPct  float64 `json:"busy_pct"`  // the whole machine
	OursPct  float64 `json:"ours_pct"`  // this process tree
	OtherPct float64 `json:"other_pct"` // everything else
	// Seconds of CPU by command name in our tree: "courier", "postgres"
	// (the server and its backends), "bare-baseline" (the bare Fiber
	// handler), "courier-bench" (this process: the load generators, plus
	// reaped children such as pgbench).
	CPUSeconds map[string]float64 `json:"cpu_seconds,omitempty"`
}

// takeCPU reads /proc/stat and the stat of every process in our tree. A
// process's cutime/cstime hold its reaped children, so a child that exits
// between two snapshots is still counted (in its parent).
func takeCPU() cpuSnapshot {
	var s cpuSnapshot
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
		s.total += v[i]
	}
	s.busy = s.total - v[3] - v[4]

	entries, err := os.ReadDir("/proc")
	if err != nil {
		return s
	}
	type proc struct {
		name  string
		ppid  int
		ticks uint64
	}
	procs := make(map[int]proc, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the parenthesised command: state, ppid, …
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open {
			continue
		}
		name, rest := string(b[open+1:end]), b[end+1:]
		f := strings.Fields(string(rest))
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var t uint64
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			n, _ := strconv.ParseUint(f[i], 10, 64)
			t += n
		}
		procs[pid] = proc{name: name, ppid: ppid, ticks: t}
	}
	self := os.Getpid()
	mine := map[int]bool{self: true}
	var inTree func(pid, depth int) bool
	inTree = func(pid, depth int) bool {
		if v, ok := mine[pid]; ok {
			return v
		}
		p, ok := procs[pid]
		if !ok || pid <= 1 || depth > 64 {
			return false
		}
		v := inTree(p.ppid, depth+1)
		mine[pid] = v
		return v
	}
	s.byName = make(map[string]uint64)
	for pid, p := range procs {
		if inTree(pid, 0) {
			s.ours += p.ticks
			s.byName[p.name] += p.ticks
		}
	}
	s.ok = true
	return s
}

// until returns how the machine was used between s and e.
func (s cpuSnapshot) until(e cpuSnapshot) cpuUse {
	if !s.ok || !e.ok || e.total <= s.total {
		return cpuUse{}
	}
	total := float64(e.total - s.total)
	busy := float64(e.busy-s.busy) / total * 100
	ours := float64(int64(e.ours-s.ours)) / total * 100
	ours = min(max(ours, 0), busy)
	u := cpuUse{BusyPct: busy, OursPct: ours, OtherPct: busy - ours, CPUSeconds: make(map[string]float64)}
	for name, t := range e.byName {
		if d := int64(t - s.byName[name]); d > 0 {
			u.CPUSeconds[name] = float64(d) / clockTicks
		}
	}
	return u
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// cpuPerOp is CPU microseconds per operation by process name, over runs
// that together did ops operations.
func cpuPerOp(ops int64, uses ...cpuUse) map[string]float64 {
	out := make(map[string]float64)
	if ops <= 0 {
		return out
	}
	for _, u := range uses {
		for name, s := range u.CPUSeconds {
			out[name] += s * 1e6 / float64(ops)
		}
	}
	return out
}

// cpuPerOpText formats cpuPerOp's result, heaviest first, with the total.
func cpuPerOpText(m map[string]float64) string {
	names := make([]string, 0, len(m))
	total := 0.0
	for n, v := range m {
		total += v
		if v >= 0.5 { // an idle process's stray tick is noise
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool { return m[names[i]] > m[names[j]] })
	parts := make([]string, 0, len(names)+1)
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.0f", n, m[n]))
	}
	return fmt.Sprintf("%.0f µs (%s)", total, strings.Join(parts, ", "))
}

// benchName is this process's command name as /proc shows it.
func benchName() string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		return "courier-bench"
	}
	return strings.TrimSpace(string(b))
}

// sumPerOp is the total of a cpuPerOp result.
func sumPerOp(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

// costRatio is the ratio of the CPU cost per operation, base over service:
// the throughput ratio to expect were both purely CPU-bound. It is a second
// view next to the measured rates, not a replacement: waits (fsync, locks)
// and other load on the machine move the two differently.
func costRatio(base, service map[string]float64) float64 {
	if s := sumPerOp(service); s > 0 {
		return sumPerOp(base) / s
	}
	return 0
}
