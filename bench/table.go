package main

import (
	"fmt"
	"strings"
	"time"
)

// renderTable prints the side-by-side table of the profiles in the order
// they ran, with the -ratios columns whose two profiles both ran.
func renderTable(o options, results map[profile]*profileResult) string {
	var b strings.Builder
	cols := o.profiles
	var ratios [][2]profile
	for _, r := range o.ratios {
		if results[r[0]] != nil && results[r[1]] != nil {
			ratios = append(ratios, r)
		}
	}
	b.WriteString("| figure |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c)
	}
	for _, r := range ratios {
		fmt.Fprintf(&b, " %s / %s |", r[0], r[1])
	}
	b.WriteString("\n|---|")
	for range len(cols) + len(ratios) {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
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
		for _, r := range ratios {
			ratio := "–"
			av, aok := vals[r[0]]
			bv, bok := vals[r[1]]
			if aok && bok && bv != 0 {
				ratio = fmt.Sprintf("%.2f×", av/bv)
			}
			cells = append(cells, ratio)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", name, strings.Join(cells, " | "))
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
