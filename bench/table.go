package main

import (
	"fmt"
	"strings"
	"time"
)

// renderTable prints the side-by-side table, with full/baseline ratios
// where both profiles ran.
func renderTable(o options, results map[profile]*profileResult) string {
	var b strings.Builder
	cols := []profile{baseline, full}
	if _, ok := results[fullMemQ]; ok {
		cols = append(cols, fullMemQ)
	}
	b.WriteString("| figure |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c)
	}
	b.WriteString(" full / baseline |\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	row := func(name string, get func(*profileResult) (float64, bool), format func(float64) string) {
		cells := make([]string, 0, len(cols))
		vals := map[profile]float64{}
		for _, p := range cols {
			r, ok := results[p]
			if !ok {
				cells = append(cells, "–")
				continue
			}
			v, ok := get(r)
			if !ok {
				cells = append(cells, "–")
				continue
			}
			vals[p] = v
			cells = append(cells, format(v))
		}
		ratio := "–"
		if bv, ok := vals[baseline]; ok && bv != 0 {
			if fv, ok := vals[full]; ok {
				ratio = fmt.Sprintf("%.2f×", fv/bv)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, strings.Join(cells, " | "), ratio)
	}
	num := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	two := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	one := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	ms := func(v float64) string { return fmt.Sprintf("%.1f ms", v) }
	for _, sig := range o.signals {
		s := sig
		pick := func(f func(*signalResult) float64) func(*profileResult) (float64, bool) {
			return func(r *profileResult) (float64, bool) {
				sr, ok := r.bySignal[s]
				if !ok {
					return 0, false
				}
				return f(sr), true
			}
		}
		row(fmt.Sprintf("%s/s at saturation, 1 core", s), pick(func(r *signalResult) float64 { return r.satThroughput }), num)
		row(fmt.Sprintf("CPU-seconds per million %s at %.0f/s", s, o.rate), pick(func(r *signalResult) float64 { return r.cpuPerMillion }), two)
		row(fmt.Sprintf("allocations per %s (whole process)", strings.TrimSuffix(string(s), "s")), pick(func(r *signalResult) float64 { return r.allocsPerItem }), one)
		row(fmt.Sprintf("bytes allocated per %s", strings.TrimSuffix(string(s), "s")), pick(func(r *signalResult) float64 { return r.bytesPerItem }), num)
		row(fmt.Sprintf("p99 end-to-end latency, %s at %.0f/s", s, o.rate), pick(func(r *signalResult) float64 { return float64(r.e2eP99) / float64(time.Millisecond) }), ms)
		row(fmt.Sprintf("p99 client ack latency, %s at %.0f/s", s, o.rate), pick(func(r *signalResult) float64 { return float64(r.fixed.ackP99) / float64(time.Millisecond) }), ms)
		row(fmt.Sprintf("%s acknowledged but not delivered", s), pick(func(r *signalResult) float64 {
			return float64(r.fixed.ackedItems - r.fixedDelivered + r.satLost)
		}), num)
	}
	row(fmt.Sprintf("peak RSS after spans at %.0f/s (MiB)", o.rate), func(r *profileResult) (float64, bool) {
		return float64(r.peakRSS) / 1024, r.peakRSS > 0
	}, one)
	return b.String()
}
