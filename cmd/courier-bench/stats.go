package main

import (
	"cmp"
	"slices"
	"time"
)

// merge joins the per-worker latency slices and sorts them.
func merge(parts [][]time.Duration) []time.Duration {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	all := make([]time.Duration, 0, n)
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.Sort(all)
	return all
}

// percentile returns the nearest-rank p-th percentile of sorted (0 < p ≤
// 100): the smallest value at least p% of the values are less than or equal
// to. It is exact, not estimated. Zero for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// rank = ceil(p/100 × n), computed in integers to avoid float error.
	n := len(sorted)
	rank := (int(p*1000)*n + 100*1000 - 1) / (100 * 1000)
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// median of v: the middle value, or the mean of the two middle values.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// medianRound is the round whose ratio is the median of rounds' (of two,
// the lower: a target is met only when both rounds meet it or the lower
// does).
func medianRound(rounds []scanResult) scanResult {
	if len(rounds) == 0 {
		return scanResult{}
	}
	s := slices.Clone(rounds)
	slices.SortFunc(s, func(a, b scanResult) int { return cmp.Compare(a.Ratio, b.Ratio) })
	return s[(len(s)-1)/2]
}
