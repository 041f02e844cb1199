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
	ratios    [][2]profile // a/b columns of the table
	fileLines int          // lines per container of the file profiles
	fileRuns  int          // runs per file profile (the median is kept)
}

func main() {
	var o options
	var profiles, signals, ratios string
	flag.StringVar(&o.bin, "bin", "", "obsd binary to run (default: build ./cmd/obsd into a temporary directory)")
	flag.StringVar(&profiles, "profiles", "baseline,full", "configurations to measure: baseline, "+strings.Join(profileNames(), ", "))
	flag.StringVar(&ratios, "ratios", "full/baseline", "ratio columns of the table, a/b, comma-separated (only those whose profiles ran)")
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
	flag.IntVar(&o.fileLines, "file-lines", 50000, "lines per container file of the files-* profiles (12 containers)")
	flag.IntVar(&o.fileRuns, "file-runs", 3, "runs per files-* profile; the median is reported")
	flag.Parse()
	for _, p := range strings.Split(profiles, ",") {
		o.profiles = append(o.profiles, profile(strings.TrimSpace(p)))
	}
	for _, s := range strings.Split(signals, ",") {
		o.signals = append(o.signals, signal(strings.TrimSpace(s)))
	}
	for _, r := range strings.Split(ratios, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(r), "/")
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: -ratios: %q is not a/b\n", r)
			os.Exit(2)
		}
		o.ratios = append(o.ratios, [2]profile{profile(a), profile(b)})
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
	var fileProfiles []profile
	for _, p := range o.profiles {
		if isFileProfile(p) {
			fileProfiles = append(fileProfiles, p)
			continue
		}
		r, err := measureProfile(o, p, work, shed)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		results[p] = r
	}
	var table string
	if len(results) > 0 {
		table = renderTable(o, results)
	}
	if len(fileProfiles) > 0 {
		fr, err := measureFiles(o, fileProfiles, work)
		if err != nil {
			return err
		}
		if table != "" {
			table += "\n"
		}
		table += renderFilesTable(o, fr)
	}
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
	hwmAfterFixed           int64 // KiB: peak RSS once the fixed-rate phase is done
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
	m := &measurer{o: o, p: p, sink: sink, proc: proc, target: fmt.Sprintf("127.0.0.1:%d", params.OTLPPort)}
	res := &profileResult{bySignal: map[signal]*signalResult{}}
	for _, sig := range o.signals {
		sr, err := m.signal(sig)
		if err != nil {
			return nil, err
		}
		res.bySignal[sig] = sr
		if sig == spans {
			res.peakRSS = sr.hwmAfterFixed
		}
	}
	return res, nil
}

// measurer runs the phases of one profile against one obsd.
type measurer struct {
	o      options
	p      profile
	sink   *countingSink
	proc   *obsdProc
	target string
}

// phase runs one load and waits for the sink to receive what obsd
// acknowledged (plus extra items, the probes); it returns the load and how
// many items of it arrived.
func (m *measurer) phase(spec loadSpec, extra func() int64) (loadResult, int64, error) {
	before := m.sink.count(spec.signal)
	res, err := runLoad(context.Background(), spec)
	if err != nil {
		return res, 0, err
	}
	var ex int64
	if extra != nil {
		ex = extra()
	}
	got := waitDelivered(context.Background(), m.sink, spec.signal, before+res.ackedItems+ex, m.o.drainWait)
	return res, got - before - ex, nil
}

func (m *measurer) signal(sig signal) (*signalResult, error) {
	reqs, err := encodeRequests(sig, 64, m.o.perReq)
	if err != nil {
		return nil, err
	}
	spec := loadSpec{signal: sig, target: m.target, requests: reqs, perReq: m.o.perReq}
	// Warm up (connections, queues, SLO instances), unmeasured.
	warm := spec
	warm.workers, warm.rate, warm.duration = 8, m.o.rate, 2*time.Second
	if _, _, err := m.phase(warm, nil); err != nil {
		return nil, err
	}
	sr := &signalResult{}
	if err := m.fixed(spec, sr); err != nil {
		return nil, err
	}
	if err := m.saturation(spec, sr); err != nil {
		return nil, err
	}
	return sr, nil
}

// fixed measures CPU, allocations and latency per item at the fixed rate.
func (m *measurer) fixed(spec loadSpec, sr *signalResult) error {
	fmt.Printf("%s %s: fixed rate %.0f/s for %s\n", m.p, spec.signal, m.o.rate, m.o.duration)
	cpu0, _ := m.proc.cpuSeconds()
	m0, b0, err := m.proc.mallocs()
	if err != nil {
		return err
	}
	book := newProbeBook()
	m.sink.probes.Store(book)
	defer m.sink.probes.Store(nil)
	spec.workers, spec.rate, spec.duration, spec.probes = 16, m.o.rate, m.o.duration, book
	probeItems := func() int64 { return book.sent() * probeSize }
	sr.fixed, sr.fixedDelivered, err = m.phase(spec, probeItems)
	if err != nil {
		return err
	}
	cpu1, _ := m.proc.cpuSeconds()
	m1, b1, _ := m.proc.mallocs()
	items := float64(sr.fixed.ackedItems + probeItems())
	sr.cpuPerMillion = (cpu1 - cpu0) / (items / 1e6)
	sr.allocsPerItem = float64(m1-m0) / items
	sr.bytesPerItem = float64(b1-b0) / items
	_, sr.hwmAfterFixed, _ = m.proc.memKiB()
	var probes int
	sr.e2eP99, probes = book.p99()
	fmt.Printf("  %.2f CPU-s per million, p99 end-to-end %s over %d probes\n", sr.cpuPerMillion, sr.e2eP99, probes)
	return nil
}

// saturation measures throughput as fast as obsd acknowledges, on its one core.
func (m *measurer) saturation(spec loadSpec, sr *signalResult) error {
	fmt.Printf("%s %s: saturation, %d concurrent requests for %s\n", m.p, spec.signal, m.o.workers, m.o.duration)
	profDone := make(chan error, 1)
	if m.o.profDir != "" {
		path := filepath.Join(m.o.profDir, fmt.Sprintf("%s-%s.pprof", m.p, spec.signal))
		go func() { profDone <- saveProfile(m.proc.pprofURL, path, m.o.duration-time.Second) }()
	} else {
		profDone <- nil
	}
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	spec.workers, spec.duration = m.o.workers, m.o.duration
	var delivered int64
	var err error
	sr.saturation, delivered, err = m.phase(spec, nil)
	if err != nil {
		return err
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	if err := <-profDone; err != nil {
		fmt.Println("profile:", err)
	}
	elapsed := sr.saturation.elapsed.Seconds()
	sr.loadCPU = (tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)) / elapsed
	sr.satLost = max(0, sr.saturation.ackedItems-delivered)
	sr.satThroughput = float64(sr.saturation.ackedItems) / elapsed
	fmt.Printf("  %.0f %s/s acknowledged (harness used %.0f%% of its core), lost %d, refused %d %v\n",
		sr.satThroughput, spec.signal, 100*sr.loadCPU, sr.satLost, sr.saturation.refusedItems, sr.saturation.refusedCodes)
	return nil
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
