// Command bench measures obsd side by side with a plain collector: the
// same obsd binary runs a "baseline" configuration (upstream components
// only: otlp receiver → batch → otlp exporter) and the "full" obsd
// pipeline (memory_limiter, correlation, slo connector with 100 SLOs,
// shed, persistent queue, otlp exporter), each pinned to one core with
// GOMAXPROCS=1, driven by a pre-encoded OTLP gRPC load generator against
// a sink that counts and discards. Everything runs on loopback.
//
//	go run ./bench                 # both profiles, spans and logs
//	go run ./bench -out bench/RESULTS.table.md -profile /tmp/prof
//
// See bench/README.md for what each figure means.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin       string
	profiles  []profile
	signals   []signal
	duration  time.Duration
	rate      float64
	workers   int
	perReq    int
	obsdCore  int
	loadCore  int
	out       string
	profDir   string
	drainWait time.Duration
}

func main() {
	var o options
	var profiles, signals string
	flag.StringVar(&o.bin, "bin", "", "obsd binary to run (default: build ./cmd/obsd into a temporary directory)")
	flag.StringVar(&profiles, "profiles", "baseline,full", "configurations to measure")
	flag.StringVar(&signals, "signals", "spans,logs", "signals to send")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured phase")
	flag.Float64Var(&o.rate, "rate", 50000, "items per second of the fixed-rate phase")
	flag.IntVar(&o.workers, "workers", 32, "concurrent requests in the saturation phase")
	flag.IntVar(&o.perReq, "per-request", 100, "spans or log records per request")
	flag.IntVar(&o.obsdCore, "core", 0, "CPU core obsd is pinned to (-1: no pinning)")
	flag.IntVar(&o.loadCore, "load-core", 1, "CPU core the load generator and sink are pinned to (-1: no pinning)")
	flag.StringVar(&o.out, "out", "", "also write the result table (markdown) to this file")
	flag.StringVar(&o.profDir, "profile", "", "save a CPU profile of obsd's saturation phases into this directory")
	flag.DurationVar(&o.drainWait, "drain", 60*time.Second, "how long to wait for the sink to receive everything acknowledged")
	flag.Parse()
	for _, p := range strings.Split(profiles, ",") {
		o.profiles = append(o.profiles, profile(strings.TrimSpace(p)))
	}
	for _, s := range strings.Split(signals, ",") {
		o.signals = append(o.signals, signal(strings.TrimSpace(s)))
	}
	if err := pinSelf(o.loadCore); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// pinSelf re-executes the harness under taskset so that the load
// generator and sink never share obsd's core.
func pinSelf(core int) error {
	if core < 0 || os.Getenv("OBSD_BENCH_PINNED") != "" {
		return nil
	}
	ts, err := exec.LookPath("taskset")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: taskset not found; load generator not pinned")
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := append([]string{ts, "-c", strconv.Itoa(core), self}, os.Args[1:]...)
	env := append(os.Environ(), "OBSD_BENCH_PINNED=1")
	return syscall.Exec(ts, args, env)
}

func run(o options) error {
	work, err := os.MkdirTemp("", "obsd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if o.bin == "" {
		o.bin = filepath.Join(work, "obsd")
		fmt.Println("building obsd ...")
		cmd := exec.Command("go", "build", "-o", o.bin, "./cmd/obsd")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/obsd (run from the repository root): %w", err)
		}
	}
	comps, _ := exec.Command(o.bin, "components").Output()
	shed := strings.Contains(string(comps), "name: shed")
	printMachine(o, shed)

	results := map[profile]*profileResult{}
	for _, p := range o.profiles {
		r, err := measureProfile(o, p, work, shed)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		results[p] = r
	}
	table := renderTable(o, results)
	fmt.Println()
	fmt.Print(table)
	if o.out != "" {
		return os.WriteFile(o.out, []byte(table), 0o644)
	}
	return nil
}

func printMachine(o options, shed bool) {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name\t: "); ok {
				cpu = v
				break
			}
		}
	}
	cores := "?"
	if out, err := exec.Command("nproc", "--all").Output(); err == nil {
		cores = strings.TrimSpace(string(out))
	}
	fmt.Printf("machine: %s, %s cores; %s %s/%s\n", cpu, cores, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("obsd pinned to core %d (GOMAXPROCS=1); load generator + sink on core %d\n", o.obsdCore, o.loadCore)
	fmt.Printf("phases of %s; fixed rate %.0f items/s; saturation with %d concurrent requests of %d items\n",
		o.duration, o.rate, o.workers, o.perReq)
	if !shed {
		fmt.Println("note: this binary has no shed processor; the full profile runs without it")
	}
}

// profileResult holds one profile's figures per signal.
type profileResult struct {
	bySignal map[signal]*signalResult
	peakRSS  int64 // KiB, after the spans fixed-rate phase
}

type signalResult struct {
	fixed, saturation       loadResult
	fixedDelivered, satLost int64
	cpuPerMillion           float64
	allocsPerItem           float64
	bytesPerItem            float64
	e2eP99                  time.Duration
	probes                  int
	satThroughput           float64
	loadCPU                 float64 // harness CPU share during saturation (1.0 = its core is full)
}

func measureProfile(o options, p profile, work string, shed bool) (*profileResult, error) {
	dir := filepath.Join(work, string(p))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sink, err := startSink()
	if err != nil {
		return nil, err
	}
	defer sink.stop()
	params := configParams{Sink: sink.addr, Dir: dir, Shed: shed}
	for _, port := range []*int{&params.OTLPPort, &params.HealthPort, &params.MetricsPort, &params.PprofPort} {
		if *port, err = freePort(); err != nil {
			return nil, err
		}
	}
	cfg, err := writeConfig(p, params)
	if err != nil {
		return nil, err
	}
	proc, err := startObsd(o.bin, cfg, o.obsdCore, params.HealthPort, params.PprofPort)
	if err != nil {
		return nil, err
	}
	defer proc.stop()
	target := fmt.Sprintf("127.0.0.1:%d", params.OTLPPort)
	res := &profileResult{bySignal: map[signal]*signalResult{}}
	ctx := context.Background()

	for _, sig := range o.signals {
		reqs, err := encodeRequests(sig, 64, o.perReq)
		if err != nil {
			return nil, err
		}
		sr := &signalResult{}
		res.bySignal[sig] = sr
		// Warm up (connections, queues, SLO instances), unmeasured.
		before := sink.count(sig)
		warm, err := runLoad(ctx, loadSpec{signal: sig, target: target, requests: reqs, perReq: o.perReq,
			workers: 8, rate: o.rate, duration: 2 * time.Second})
		if err != nil {
			return nil, err
		}
		waitDelivered(ctx, sink, sig, before+warm.ackedItems, o.drainWait)

		// Fixed rate: CPU per million items, allocations, latency.
		fmt.Printf("%s %s: fixed rate %.0f/s for %s\n", p, sig, o.rate, o.duration)
		cpu0, _ := proc.cpuSeconds()
		m0, b0, err := proc.mallocs()
		if err != nil {
			return nil, err
		}
		before = sink.count(sig)
		book := newProbeBook()
		sink.probes.Store(book)
		sr.fixed, err = runLoad(ctx, loadSpec{signal: sig, target: target, requests: reqs, perReq: o.perReq,
			workers: 16, rate: o.rate, duration: o.duration, probes: book})
		if err != nil {
			return nil, err
		}
		probeItems := int64(book.next) * probeSize
		got := waitDelivered(ctx, sink, sig, before+sr.fixed.ackedItems+probeItems, o.drainWait)
		sink.probes.Store(nil)
		sr.fixedDelivered = got - before - probeItems
		cpu1, _ := proc.cpuSeconds()
		m1, b1, _ := proc.mallocs()
		items := float64(sr.fixed.ackedItems + probeItems)
		sr.cpuPerMillion = (cpu1 - cpu0) / (items / 1e6)
		sr.allocsPerItem = float64(m1-m0) / items
		sr.bytesPerItem = float64(b1-b0) / items
		sr.e2eP99, sr.probes = book.p99()
		if sig == spans {
			_, res.peakRSS, _ = proc.memKiB()
		}

		// Saturation: as fast as obsd acknowledges, on its one core.
		fmt.Printf("%s %s: saturation, %d concurrent requests for %s\n", p, sig, o.workers, o.duration)
		before = sink.count(sig)
		profDone := make(chan error, 1)
		if o.profDir != "" {
			go func() {
				profDone <- saveProfile(proc.pprofURL, filepath.Join(o.profDir, fmt.Sprintf("%s-%s.pprof", p, sig)), o.duration-time.Second)
			}()
		} else {
			profDone <- nil
		}
		var ru0, ru1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		sr.saturation, err = runLoad(ctx, loadSpec{signal: sig, target: target, requests: reqs, perReq: o.perReq,
			workers: o.workers, duration: o.duration})
		if err != nil {
			return nil, err
		}
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		sr.loadCPU = (tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)) / sr.saturation.elapsed.Seconds()
		if err := <-profDone; err != nil {
			fmt.Println("profile:", err)
		}
		got = waitDelivered(ctx, sink, sig, before+sr.saturation.ackedItems, o.drainWait)
		sr.satLost = max(0, sr.saturation.ackedItems-(got-before))
		sr.satThroughput = float64(sr.saturation.ackedItems) / sr.saturation.elapsed.Seconds()
		fmt.Printf("  %.0f %s/s acknowledged (harness used %.0f%% of its core), lost %d, refused %d %v\n",
			sr.satThroughput, sig, 100*sr.loadCPU, sr.satLost, sr.saturation.refusedItems, sr.saturation.refusedCodes)
	}
	return res, nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func saveProfile(base, path string, d time.Duration) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	resp, err := http.Get(fmt.Sprintf("%sprofile?seconds=%d", base, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
