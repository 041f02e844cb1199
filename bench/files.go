package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/obsd-dev/obsd/internal/podlogs"
)

// File profiles read container log files instead of receiving OTLP: the
// same binary, pinned the same way, reads a tree shaped like /var/log/pods
// and exports to the counting sink.
const (
	// filesBare is the file_log receiver alone (no operator) into the
	// otlp_grpc exporter with its in-memory queue: what reading the files
	// costs before obsd does anything with the lines.
	filesBare profile = "files-bare"
	// filesFull is obsd's processing of container logs: the container
	// parser (CRI and Docker, P/F joined, pod from the path), then
	// memory_limiter, k8smeta (pods from an API server) and correlation
	// (ids lifted from JSON and logfmt bodies), same exporter.
	filesFull profile = "files-full"
	// filesContainer is files-bare with the container parser only: what
	// upstream's parsing costs, apart from obsd's processors.
	filesContainer profile = "files-container"
	// filesShipped is files-full as config.example.yaml runs it: with
	// checkpoints, the slo processor for the slo connector's 100 log SLOs
	// (journaled), shed and a persistent queue, all on wal_storage.
	filesShipped profile = "files-shipped"
)

func isFileProfile(p profile) bool { return strings.HasPrefix(string(p), "files-") }

// fileParams fills the file profiles' config.
type fileParams struct {
	configParams
	Root, K8sAPI          string
	Parse, Process, Queue bool // container parser; its processors; persistent queue, checkpoints, slo
}

// filesConfig is one config for every file profile; the flags turn parts on.
// It is rendered with configParts.
const filesConfig = `
receivers:
{{- if .Queue}}
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:{{.OTLPPort}}}
{{- end}}
  file_log:
    include: [{{.Root}}/*/*/*.log]
    include_file_path: true
    include_file_name: false
    start_at: beginning
    poll_interval: 200ms
    max_concurrent_files: 128
    max_log_size: 512KiB
    max_log_size_behavior: truncate
    retry_on_failure: {enabled: true, initial_interval: 500ms, max_interval: 10s, max_elapsed_time: 0s}
{{- if .Queue}}
    storage: wal_storage
{{- end}}
{{- if .Parse}}
    operators:
      - {type: router, id: log_format, routes: [{expr: 'body matches "^\\{"', output: docker}], default: cri}
      - {type: container, id: docker, format: docker, output: container_done}
      - {type: container, id: cri, max_log_size: 256KiB}
      - {type: noop, id: container_done}
{{- end}}
{{- if .Process}}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 400, spike_limit_mib: 80}
  k8smeta:
    node_name: node-1
    source: {kind: apiserver, endpoint: "{{.K8sAPI}}", token_file: "", ca_file: "", poll_interval: 15s}
  correlation:
    correlation_keys: [request_id]
    default_policy: {action: tag}
{{- if .Queue}}
  slo: {}
  shed: {memory_limit_mib: 400, protect: [{key: log.file.path}]}
connectors:
  slo:
    slos: [{{.SLOFile}}]
    evaluation_interval: 10s
    state: {directory: {{.Dir}}/slo, snapshot_interval: 10s}
    storage: wal_storage
{{- end}}
{{- end}}
exporters:
  otlp_grpc:
{{- template "exporter" .}}
{{- if .Queue}}
      storage: wal_storage
      sizer: requests
      queue_size: 20000
{{- else}}
      # An in-memory queue of a few batches that blocks the reader when
      # full, so the heap does not hold the whole tree.
      sizer: items
      queue_size: 65536
      block_on_overflow: true
{{- end}}
      num_consumers: 4
      batch: {flush_timeout: 200ms, sizer: items, min_size: 8192, max_size: 16384}
{{- template "extensions" .}}
{{- if .Queue}}
  wal_storage: {directory: {{.Dir}}/wal, fsync: interval, fsync_interval: 1s}
{{- end}}
service:
  extensions: [health_check, pprof{{if .Queue}}, wal_storage{{end}}]
{{- template "telemetry" .}}
  pipelines:
{{- if .Queue}}
    logs: {receivers: [file_log], processors: [memory_limiter, k8smeta, correlation, slo, shed], exporters: [otlp_grpc]}
    # The connector is an exporter of some pipeline (the collector wants
    # one): OTLP metrics, of which there are none here.
    metrics/in: {receivers: [otlp], exporters: [slo]}
    metrics/slo: {receivers: [slo], exporters: [otlp_grpc]}
{{- else if .Process}}
    logs: {receivers: [file_log], processors: [memory_limiter, k8smeta, correlation], exporters: [otlp_grpc]}
{{- else}}
    logs: {receivers: [file_log], exporters: [otlp_grpc]}
{{- end}}
`

// The tree the file profiles read: filePods containers, a third each in
// containerd CRI (JSON bodies with trace_id), CRI (logfmt with
// traceparent) and Docker JSON (JSON bodies), every 20th line of a CRI
// file split by the runtime in P, P, F chunks.
const (
	filePods       = 12
	fileSplitEvery = 20
)

// fileContainer is the i-th container of the tree and its format.
func fileContainer(i int) (podlogs.Container, podlogs.Format, bool) {
	c := podlogs.Container{Namespace: "ns-" + fmt.Sprint(i%3), Pod: fmt.Sprintf("svc-%d-6d8f9-x%d", i%services, i),
		UID: podlogs.UID(1000 + i), Name: fmt.Sprintf("svc-%d", i%services)}
	switch i % 3 {
	case 0:
		return c, podlogs.CRI, true
	case 1:
		return c, podlogs.CRI, false
	}
	return c, podlogs.Docker, true
}

// fileLine is line n of container pod: an access log of about 200 bytes.
// Every file's first bytes differ (file_log tells files apart by them).
func fileLine(pod, n int, asJSON bool) string {
	trace := fmt.Sprintf("%016x%016x", uint64(n)*0x9e3779b97f4a7c15, uint64(n)+1)
	status := 200
	if n%errorOneInN == 0 {
		status = 503
	}
	if asJSON {
		return fmt.Sprintf(`{"level":"info","msg":"request served","path":"/r/%d","status":%d,"duration_ms":%d,"trace_id":"%s","span_id":"%016x","request_id":"req-%d-%d"}`,
			n%routes, status, n%97, trace, uint64(n)+7, pod, n)
	}
	return fmt.Sprintf(`level=info msg="request served" path=/r/%d status=%d duration_ms=%d traceparent=00-%s-%016x-01 request_id=req-%d-%d`,
		n%routes, status, n%97, trace, uint64(n)+7, pod, n)
}

// writeFileTree writes perPod lines per container under dir and returns
// the number of physical lines in the files (a split line counts once per
// chunk) and of records they make once P/F chunks are joined.
func writeFileTree(dir string, perPod int) (physical, records int64, err error) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range filePods {
		c, format, asJSON := fileContainer(i)
		w, err := podlogs.NewWriter(dir, c)
		if err != nil {
			return 0, 0, err
		}
		var b strings.Builder
		for n := range perPod {
			line := fileLine(i, n, asJSON)
			var text string
			switch {
			case format == podlogs.CRI && n%fileSplitEvery == 0:
				text = podlogs.Partial(ts, line, len(line)/3+1)
			default:
				text = podlogs.Line(format, ts, line)
			}
			b.WriteString(text)
			physical += int64(strings.Count(text, "\n"))
			records++
			if b.Len() > 1<<20 {
				if err := w.Write(b.String()); err != nil {
					return 0, 0, err
				}
				b.Reset()
			}
		}
		if err := w.Write(b.String()); err != nil {
			return 0, 0, err
		}
		if err := w.Close(); err != nil {
			return 0, 0, err
		}
	}
	return physical, records, nil
}

// linkTree hard-links every file of the tree src into dst (same layout),
// so that every run reads fresh files without copying them.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return os.Link(p, filepath.Join(dst, rel))
	})
}

// startPodAPI serves the tree's pods as the API server's pod list, so that
// k8smeta finds each record's pod by its uid and sets service.name.
func startPodAPI() (string, func(), error) {
	type meta struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		UID       string            `json:"uid"`
		Labels    map[string]string `json:"labels"`
	}
	type pod struct {
		Metadata meta `json:"metadata"`
		Spec     struct {
			NodeName   string              `json:"nodeName"`
			Containers []map[string]string `json:"containers"`
		} `json:"spec"`
		Status map[string]string `json:"status"`
	}
	list := struct {
		Kind  string `json:"kind"`
		Items []pod  `json:"items"`
	}{Kind: "PodList"}
	for i := range filePods {
		c, _, _ := fileContainer(i)
		p := pod{Metadata: meta{Name: c.Pod, Namespace: c.Namespace, UID: c.UID, Labels: map[string]string{"app.kubernetes.io/name": c.Name}},
			Status: map[string]string{"phase": "Running", "podIP": fmt.Sprintf("10.1.0.%d", i+1)}}
		p.Spec.NodeName = "node-1"
		p.Spec.Containers = []map[string]string{{"name": c.Name}}
		list.Items = append(list.Items, p)
	}
	body, err := json.Marshal(list)
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// fileResult is one file profile's figures (medians over the runs).
type fileResult struct {
	records, lines    int64   // records delivered; physical lines read
	linesPerCPUSecond float64 // lines / obsd CPU-seconds
	linesPerSecond    float64 // lines / wall-clock seconds, on one core
	cpuPerMillion     float64
	allocsPerLine     float64
	hwmMiB            float64
	runs              []float64 // lines per CPU-second of each run
}

// measureFiles runs each file profile o.fileRuns times on a fresh copy of
// a pre-written tree and returns the medians.
func measureFiles(o options, profiles []profile, work string) (map[profile]*fileResult, error) {
	tmpl := filepath.Join(work, "files-template")
	fmt.Printf("writing %d containers x %d lines ...\n", filePods, o.fileLines)
	physical, joined, err := writeFileTree(tmpl, o.fileLines)
	if err != nil {
		return nil, err
	}
	api, stopAPI, err := startPodAPI()
	if err != nil {
		return nil, err
	}
	defer stopAPI()
	out := map[profile]*fileResult{}
	for _, p := range profiles {
		// Without the container parser every chunk of a split line is a
		// record; per line figures divide by the physical lines read.
		records := joined
		if p == filesBare {
			records = physical
		}
		r := &fileResult{records: records, lines: physical}
		var cpu, wall, allocs, hwm []float64
		for run := range o.fileRuns {
			c, w, a, h, err := fileRun(o, p, work, tmpl, api, records, run)
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", p, run+1, err)
			}
			fmt.Printf("%s run %d: %.0f lines per CPU-second, %.0f lines/s, %.1f allocs/line, peak RSS %.0f MiB\n",
				p, run+1, float64(physical)/c, float64(physical)/w, a/float64(physical), h)
			cpu, wall, allocs, hwm = append(cpu, c), append(wall, w), append(allocs, a), append(hwm, h)
			r.runs = append(r.runs, float64(physical)/c)
		}
		r.cpuPerMillion = median(cpu) / (float64(physical) / 1e6)
		r.linesPerCPUSecond = float64(physical) / median(cpu)
		r.linesPerSecond = float64(physical) / median(wall)
		r.allocsPerLine = median(allocs) / float64(physical)
		r.hwmMiB = median(hwm)
		out[p] = r
	}
	return out, nil
}

// fileRun starts obsd on an empty tree, moves a fresh copy of the files in
// and measures obsd's CPU time, wall time, allocations and peak RSS until
// the sink has every record.
func fileRun(o options, p profile, work, tmpl, api string, records int64, run int) (cpu, wall, allocs, hwmMiB float64, err error) {
	dir := filepath.Join(work, fmt.Sprintf("%s-%d", p, run))
	root := filepath.Join(dir, "pods")
	staging := filepath.Join(dir, "staging")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return 0, 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	if err := linkTree(tmpl, staging); err != nil {
		return 0, 0, 0, 0, err
	}
	sink, err := startSink()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer sink.stop()
	fp := fileParams{configParams: configParams{Sink: sink.addr, Dir: dir}, Root: root, K8sAPI: api,
		Parse: p != filesBare, Process: p == filesFull || p == filesShipped, Queue: p == filesShipped}
	for _, port := range []*int{&fp.OTLPPort, &fp.HealthPort, &fp.MetricsPort, &fp.PprofPort} {
		if *port, err = freePort(); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	if fp.Queue {
		fp.SLOFile = filepath.Join(dir, "slos.yaml")
		if err := os.WriteFile(fp.SLOFile, []byte(sloFile()), 0o600); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	cfg, err := renderConfig(dir, string(p), filesConfig, fp)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	proc, err := startObsd(o.bin, cfg, o.obsdCore, fp.HealthPort, fp.PprofPort)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer proc.stop()
	time.Sleep(time.Second) // past the first poll and k8smeta's first pod list
	cpu0, _ := proc.cpuSeconds()
	m0, _, err := proc.mallocs()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	start := time.Now()
	entries, err := os.ReadDir(staging)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(staging, e.Name()), filepath.Join(root, e.Name())); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	profDone := make(chan error, 1)
	if o.profDir != "" && run == 0 {
		path := filepath.Join(o.profDir, string(p)+".pprof")
		go func() { profDone <- saveProfile(proc.pprofURL, path, 3*time.Second) }()
	} else {
		profDone <- nil
	}
	got := waitDelivered(context.Background(), sink, logs, records, o.drainWait)
	wall = time.Since(start).Seconds()
	cpu1, _ := proc.cpuSeconds()
	m1, _, _ := proc.mallocs()
	_, hwm, _ := proc.memKiB()
	if err := <-profDone; err != nil {
		fmt.Println("profile:", err)
	}
	if got != records {
		return 0, 0, 0, 0, fmt.Errorf("the sink received %d of %d records in %s; obsd log:\n%s", got, records, o.drainWait, proc.log.String())
	}
	return cpu1 - cpu0, wall, float64(m1 - m0), float64(hwm) / 1024, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// renderFilesTable prints the file profiles side by side, with each
// profile's CPU per line against files-bare.
func renderFilesTable(o options, res map[profile]*fileResult) string {
	var cols []profile
	for _, p := range []profile{filesBare, filesContainer, filesFull, filesShipped} {
		if _, ok := res[p]; ok {
			cols = append(cols, p)
		}
	}
	var b strings.Builder
	b.WriteString("| figure |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c)
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	row := func(name string, f func(*fileResult) string) {
		fmt.Fprintf(&b, "| %s |", name)
		for _, c := range cols {
			fmt.Fprintf(&b, " %s |", f(res[c]))
		}
		b.WriteString("\n")
	}
	bare := res[filesBare]
	row("physical lines read", func(r *fileResult) string { return fmt.Sprint(r.lines) })
	row("records delivered (P/F chunks joined when parsed)", func(r *fileResult) string { return fmt.Sprint(r.records) })
	row("lines per CPU-second (1 core, median)", func(r *fileResult) string { return fmt.Sprintf("%.0f", r.linesPerCPUSecond) })
	row("lines/s wall clock, obsd on 1 core", func(r *fileResult) string { return fmt.Sprintf("%.0f", r.linesPerSecond) })
	row("CPU-seconds per million lines", func(r *fileResult) string { return fmt.Sprintf("%.2f", r.cpuPerMillion) })
	row("CPU per line / files-bare", func(r *fileResult) string {
		if bare == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f×", r.cpuPerMillion/bare.cpuPerMillion)
	})
	row("allocations per line (whole process)", func(r *fileResult) string { return fmt.Sprintf("%.1f", r.allocsPerLine) })
	row("peak RSS (MiB)", func(r *fileResult) string { return fmt.Sprintf("%.0f", r.hwmMiB) })
	row("lines per CPU-second, each run", func(r *fileResult) string {
		var s []string
		for _, v := range r.runs {
			s = append(s, fmt.Sprintf("%.0f", v))
		}
		return strings.Join(s, ", ")
	})
	fmt.Fprintf(&b, "\n%d runs per profile, %d containers × %d lines.\n", o.fileRuns, filePods, o.fileLines)
	return b.String()
}
