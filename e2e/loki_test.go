package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

var (
	lokiClientOnce sync.Once
	lokiClientPath string
	lokiClientErr  error
)

// lokiClient builds e2e/clients/loki (its own module, holding the real
// loki-client-go) once per test binary.
func lokiClient(t *testing.T) string {
	t.Helper()
	lokiClientOnce.Do(func() {
		root, err := harness.RepoRoot()
		if err != nil {
			lokiClientErr = err
			return
		}
		dir, err := os.MkdirTemp("", "obsd-e2e-lokiclient-")
		if err != nil {
			lokiClientErr = err
			return
		}
		lokiClientPath = filepath.Join(dir, "lokiclient")
		cmd := exec.Command("go", "build", "-o", lokiClientPath, ".")
		cmd.Dir = filepath.Join(root, "e2e", "clients", "loki")
		if out, err := cmd.CombinedOutput(); err != nil {
			lokiClientErr = fmt.Errorf("go build e2e/clients/loki: %w\n%s", err, out)
		}
	})
	if lokiClientErr != nil {
		t.Fatal(lokiClientErr)
	}
	return lokiClientPath
}

// lokiPushConfig is obsd with the lokipush receiver on lokiPort feeding the
// OTLP sink.
func lokiPushConfig(p ports, s *sink.OTLP, lokiPort int) harness.Config {
	receivers := fmt.Sprintf(`
  lokipush:
    endpoint: 127.0.0.1:%d`, lokiPort)
	pipelines := `
    logs:
      receivers: [lokipush]
      processors: [memory_limiter]
      exporters: [otlp_grpc]`
	return baseConfig(p, s, receivers, pipelines)
}

// sinkRecords flattens the sink's logs into body -> (resource, record).
type sunkRecord struct {
	resource map[string]any
	attrs    map[string]any
	ts       int64
}

func sinkRecords(s *sink.OTLP) map[string]sunkRecord {
	out := map[string]sunkRecord{}
	for _, ld := range s.Logs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					out[lr.Body().AsString()] = sunkRecord{rl.Resource().Attributes().AsRaw(), lr.Attributes().AsRaw(), int64(lr.Timestamp())}
				}
			}
		}
	}
	return out
}

const (
	e2eTraceID = "0af7651916cd43dd8448eb211c80319c"
	e2eSpanID  = "b7ad6b7169203331"
	e2eStartNs = int64(1_700_000_000_123_456_789)
)

// TestLokiClientGoPushArrivesAtTheSink pushes with the real loki-client-go,
// in protobuf+snappy and in JSON mode, to /loki/api/v1/push and to the
// legacy /api/prom/push, and checks labels, metadata, tenant and
// timestamps at the OTLP sink.
func TestLokiClientGoPushArrivesAtTheSink(t *testing.T) {
	client := lokiClient(t)
	cases := []struct {
		name     string
		path     string
		json     bool
		metadata bool // loki-client-go's JSON mode drops structured metadata
	}{
		{"protobuf+snappy", "/loki/api/v1/push", false, true},
		{"JSON mode (legacy labels/entries shape)", "/loki/api/v1/push", true, false},
		{"protobuf+snappy to the legacy /api/prom/push", "/api/prom/push", false, true},
		{"JSON mode to the legacy /api/prom/push", "/api/prom/push", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sink.NewOTLP(t)
			p := newPorts(t)
			lokiPort := harness.FreePort(t)
			harness.Start(t, lokiPushConfig(p, s, lokiPort))

			const lines = 200
			args := []string{
				"-url", fmt.Sprintf("http://127.0.0.1:%d%s", lokiPort, tc.path),
				"-tenant", "team-a", "-lines", fmt.Sprint(lines), "-prefix", "checkout",
				"-labels", "service_name=checkout,namespace=shop,pod=checkout-1,container=app,level=info,env=prod",
				"-trace-id", e2eTraceID, "-span-id", e2eSpanID, "-start-ns", fmt.Sprint(e2eStartNs),
			}
			if tc.json {
				args = append(args, "-json")
			}
			if out, err := exec.Command(client, args...).CombinedOutput(); err != nil {
				t.Fatalf("lokiclient: %v\n%s", err, out)
			}
			harness.Eventually(t, 20*time.Second, func() bool { return s.LogRecordCount() >= lines },
				"sink has %d records, want %d", s.LogRecordCount(), lines)
			if n := s.LogRecordCount(); n != lines {
				t.Fatalf("sink has %d records, want exactly %d", n, lines)
			}
			recs := sinkRecords(s)
			for i := range lines {
				body := fmt.Sprintf("checkout %d", i)
				r, ok := recs[body]
				if !ok {
					t.Fatalf("line %q missing", body)
				}
				if want := e2eStartNs + int64(i)*int64(time.Millisecond); r.ts != want {
					t.Errorf("%q: timestamp %d, want %d", body, r.ts, want)
				}
				wantRes := map[string]any{"service.name": "checkout", "k8s.namespace.name": "shop",
					"k8s.pod.name": "checkout-1", "k8s.container.name": "app", "loki.tenant": "team-a"}
				if fmt.Sprint(r.resource) != fmt.Sprint(wantRes) {
					t.Errorf("%q: resource %v, want %v", body, r.resource, wantRes)
				}
				wantAttrs := map[string]any{"level": "info", "env": "prod"}
				if tc.metadata {
					wantAttrs["trace_id"], wantAttrs["span_id"] = e2eTraceID, e2eSpanID
				}
				if fmt.Sprint(r.attrs) != fmt.Sprint(wantAttrs) {
					t.Errorf("%q: attributes %v, want %v", body, r.attrs, wantAttrs)
				}
			}
		})
	}
}

// TestPromtailStylePushes pushes what promtail sends (its client is not
// served as a Go module, so the requests are written as promtail writes
// them): a batch of several streams, one per tailed file, labelled
// {filename, job, host, ...}, as a snappy-compressed logproto.PushRequest
// with Content-Type application/x-protobuf, User-Agent promtail/<version>
// and the tenant in X-Scope-OrgID; entries carry structured metadata as
// promtail 3's pipeline stages set it. Newer promtails post to
// /loki/api/v1/push, older ones to /api/prom/push: both are checked, with
// two batches each, at the OTLP sink.
func TestPromtailStylePushes(t *testing.T) {
	for _, path := range []string{"/loki/api/v1/push", "/api/prom/push"} {
		t.Run(path, func(t *testing.T) {
			s := sink.NewOTLP(t)
			p := newPorts(t)
			lokiPort := harness.FreePort(t)
			harness.Start(t, lokiPushConfig(p, s, lokiPort))
			url := fmt.Sprintf("http://127.0.0.1:%d%s", lokiPort, path)

			files := []struct{ filename, level string }{{"/var/log/pods/shop_checkout-1/app/0.log", "info"}, {"/var/log/nginx/error.log", "error"}}
			const batches, perStream = 2, 50
			want := map[string]sunkRecord{}
			for b := range batches {
				var req push.PushRequest
				for f, file := range files {
					// Promtail's batch keys streams by their label string.
					st := push.Stream{Labels: fmt.Sprintf(`{filename=%q, host="node-1", job="varlogs", level=%q}`, file.filename, file.level)}
					for i := range perStream {
						ts := e2eStartNs + int64(b*1000+f*100+i)
						line := fmt.Sprintf("batch=%d file=%d line=%d msg=\"served\"", b, f, i)
						st.Entries = append(st.Entries, push.Entry{Timestamp: time.Unix(0, ts), Line: line,
							StructuredMetadata: push.LabelsAdapter{{Name: "trace_id", Value: e2eTraceID}}})
						want[line] = sunkRecord{
							// job names a resource; the other labels and the
							// metadata are the record's.
							resource: map[string]any{"job": "varlogs", "loki.tenant": "node-1-tenant"},
							attrs:    map[string]any{"filename": file.filename, "host": "node-1", "level": file.level, "trace_id": e2eTraceID},
							ts:       ts,
						}
					}
					req.Streams = append(req.Streams, st)
				}
				buf, err := req.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				hreq, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(snappy.Encode(nil, buf)))
				if err != nil {
					t.Fatal(err)
				}
				hreq.Header.Set("Content-Type", "application/x-protobuf")
				hreq.Header.Set("User-Agent", "promtail/2.9.10")
				hreq.Header.Set("X-Scope-OrgID", "node-1-tenant")
				resp, err := http.DefaultClient.Do(hreq)
				if err != nil {
					t.Fatal(err)
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				// Promtail treats any 2xx as done; Loki answers 204.
				if resp.StatusCode != http.StatusNoContent {
					t.Fatalf("batch %d: status %d: %s", b, resp.StatusCode, msg)
				}
			}
			total := batches * len(files) * perStream
			harness.Eventually(t, 20*time.Second, func() bool { return s.LogRecordCount() >= total },
				"sink has %d records, want %d", s.LogRecordCount(), total)
			if n := s.LogRecordCount(); n != total {
				t.Fatalf("sink has %d records, want exactly %d", n, total)
			}
			got := sinkRecords(s)
			for line, w := range want {
				r, ok := got[line]
				if !ok {
					t.Fatalf("line %q missing", line)
				}
				if r.ts != w.ts || fmt.Sprint(r.resource) != fmt.Sprint(w.resource) || fmt.Sprint(r.attrs) != fmt.Sprint(w.attrs) {
					t.Fatalf("%q arrived as %+v, want %+v", line, r, w)
				}
			}
		})
	}
}

// TestCurlShapedJSONPush posts the JSON bodies people write by hand (v1
// shape, structured metadata, plain and gzip).
func TestCurlShapedJSONPush(t *testing.T) {
	body := fmt.Sprintf(`{"streams":[{"stream":{"service_name":"curl","level":"warn"},"values":[
	  ["%d","first",{"trace_id":"%s"}],["%d","second"]]}]}`, e2eStartNs, e2eTraceID, e2eStartNs+1)
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			s := sink.NewOTLP(t)
			p := newPorts(t)
			lokiPort := harness.FreePort(t)
			harness.Start(t, lokiPushConfig(p, s, lokiPort))
			payload := []byte(body)
			if gz {
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				_, _ = zw.Write(payload)
				_ = zw.Close()
				payload = buf.Bytes()
			}
			req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", lokiPort), bytes.NewReader(payload))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Scope-OrgID", "ops")
			if gz {
				req.Header.Set("Content-Encoding", "gzip")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d: %s", resp.StatusCode, msg)
			}
			harness.Eventually(t, 20*time.Second, func() bool { return s.LogRecordCount() >= 2 }, "sink has %d records, want 2", s.LogRecordCount())
			r := sinkRecords(s)["first"]
			if r.ts != e2eStartNs || r.attrs["trace_id"] != e2eTraceID || r.attrs["level"] != "warn" ||
				r.resource["service.name"] != "curl" || r.resource["loki.tenant"] != "ops" {
				t.Fatalf("first record arrived as %+v", r)
			}
		})
	}
}

// flakyLoki decodes pushes with Loki's own push types, fails the first
// len(script) of them, then accepts, and keeps the accepted lines.
type flakyLoki struct {
	mu       sync.Mutex
	down     bool // answer 503 to everything while set
	script   []int
	attempts int
	lines    []string
	labels   map[string]bool
}

func (f *flakyLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if len(f.script) > 0 {
		code := f.script[0]
		f.script = f.script[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "scripted failure", code)
		return
	}
	for _, s := range req.Streams {
		f.labels[s.Labels] = true
		for _, e := range s.Entries {
			f.lines = append(f.lines, e.Line)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *flakyLoki) accepted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

// TestLokiExporterSurvivesAFailingLoki runs lokipush -> loki exporter (with a
// persistent queue) against a Loki that answers 500 three times, then 429,
// then accepts: every line arrives exactly once.
func TestLokiExporterSurvivesAFailingLoki(t *testing.T) {
	loki := &flakyLoki{script: []int{500, 500, 500, 429}, labels: map[string]bool{}}
	srv := httptest.NewServer(loki)
	t.Cleanup(srv.Close)

	p := newPorts(t)
	lokiPort := harness.FreePort(t)
	o := harness.Start(t, lokiExporterConfig(p, lokiPort, srv.URL))

	const lines = 100
	if out, err := exec.Command(lokiClient(t),
		"-url", fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", lokiPort), "-lines", fmt.Sprint(lines),
		"-prefix", "queued", "-labels", "service_name=checkout,namespace=shop,level=error", "-trace-id", e2eTraceID,
	).CombinedOutput(); err != nil {
		t.Fatalf("lokiclient: %v\n%s", err, out)
	}
	assertExactlyOnce(t, o, loki, lines)
	loki.mu.Lock()
	defer loki.mu.Unlock()
	if loki.attempts < 5 {
		t.Fatalf("fake Loki saw %d attempts, want the 4 failures and a success", loki.attempts)
	}
	want := `{k8s_namespace_name="shop", level="error", service_name="checkout"}`
	if !loki.labels[want] {
		t.Fatalf("stream labels %v, want %s", loki.labels, want)
	}
}

// lokiExporterConfig is lokipush -> loki exporter with a file_storage queue
// in the instance directory.
func lokiExporterConfig(p ports, lokiPort int, lokiURL string) harness.Config {
	yaml := fmt.Sprintf(`
receivers:
  lokipush:
    endpoint: 127.0.0.1:%d
exporters:
  loki:
    endpoint: %s/loki/api/v1/push
    timeout: 5s
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 200ms
      max_elapsed_time: 0s
    sending_queue:
      storage: file_storage
      num_consumers: 1
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
  file_storage:
    directory: {{DIR}}
service:
  extensions: [health_check, file_storage]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
                without_scope_info: true
                without_units: true
                without_type_suffix: true
  pipelines:
    logs:
      receivers: [lokipush]
      exporters: [loki]
`, lokiPort, lokiURL, p.Health, p.Metrics)
	return harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics}
}

// assertExactlyOnce waits until the exporter counts lines records sent and
// checks the fake Loki accepted each line exactly once.
func assertExactlyOnce(t *testing.T, o *harness.Obsd, loki *flakyLoki, lines int) {
	t.Helper()
	sent := func() float64 {
		return harness.Sum(o.Metrics(t), "otelcol_exporter_sent_log_records", map[string]string{"exporter": "loki"})
	}
	// The exporter counts a record as sent only once Loki said 2xx: when all
	// are counted, every push is over and a duplicate would show here.
	harness.Eventually(t, 30*time.Second, func() bool { return sent() >= float64(lines) },
		"exporter sent %v records, want %d", sent(), lines)
	if n := sent(); n != float64(lines) {
		t.Fatalf("exporter counted %v records sent, want exactly %d", n, lines)
	}
	assertLinesOnce(t, loki, lines)
}

// assertLinesOnce checks the fake Loki accepted lines distinct lines, none twice.
func assertLinesOnce(t *testing.T, loki *flakyLoki, lines int) {
	t.Helper()
	got := loki.accepted()
	sort.Strings(got)
	if len(got) != lines {
		t.Fatalf("fake Loki accepted %d lines, want exactly %d (no loss, no duplicate)", len(got), lines)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("line %q arrived twice", got[i])
		}
	}
}

// TestLokiExporterPersistentQueueSurvivesACrash pushes while Loki is down,
// kills obsd (SIGKILL), brings Loki back and restarts obsd on the same
// directory: the lines acknowledged to the client before the crash are
// delivered from the persistent queue.
func TestLokiExporterPersistentQueueSurvivesACrash(t *testing.T) {
	loki := &flakyLoki{down: true, labels: map[string]bool{}}
	srv := httptest.NewServer(loki)
	t.Cleanup(srv.Close)
	p := newPorts(t)
	lokiPort := harness.FreePort(t)
	o := harness.Start(t, lokiExporterConfig(p, lokiPort, srv.URL))

	const lines = 50
	if out, err := exec.Command(lokiClient(t),
		"-url", fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", lokiPort), "-lines", fmt.Sprint(lines), "-prefix", "durable",
	).CombinedOutput(); err != nil {
		t.Fatalf("lokiclient: %v\n%s", err, out)
	}
	harness.Eventually(t, 20*time.Second, func() bool {
		loki.mu.Lock()
		defer loki.mu.Unlock()
		return loki.attempts >= 2
	}, "the exporter never tried the down Loki")
	o.Kill()

	loki.mu.Lock()
	loki.down = false
	loki.mu.Unlock()
	o.Restart()
	o.WaitHealthy(30 * time.Second)
	harness.Eventually(t, 30*time.Second, func() bool { return len(loki.accepted()) >= lines },
		"fake Loki accepted %d lines after the restart, want %d", len(loki.accepted()), lines)
	assertLinesOnce(t, loki, lines)
}

// TestLokiPushBadInputOnTheRealBinary checks that hostile bodies get clean
// 4xx answers from the real obsd and that it keeps serving afterwards.
func TestLokiPushBadInputOnTheRealBinary(t *testing.T) {
	s := sink.NewOTLP(t)
	p := newPorts(t)
	lokiPort := harness.FreePort(t)
	o := harness.Start(t, lokiPushConfig(p, s, lokiPort))
	url := fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", lokiPort)

	good, err := (&push.PushRequest{Streams: []push.Stream{{Labels: `{service_name="ok"}`,
		Entries: []push.Entry{{Timestamp: time.Unix(0, e2eStartNs), Line: "still alive"}}}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(make([]byte, 64<<20))
	_ = zw.Close()

	cases := []struct {
		name, contentType, encoding string
		body                        []byte
		want                        int
	}{
		{"truncated snappy protobuf", "application/x-protobuf", "", snappy.Encode(nil, good)[:10], http.StatusBadRequest},
		{"protobuf that is not snappy", "application/x-protobuf", "", good, http.StatusBadRequest},
		{"wrong content type", "text/plain", "", []byte("hello"), http.StatusUnsupportedMediaType},
		{"raw body over 10 MiB", "application/json", "", bytes.Repeat([]byte(" "), 11<<20), http.StatusRequestEntityTooLarge},
		{"gzip zip bomb", "application/json", "gzip", bomb.Bytes(), http.StatusRequestEntityTooLarge},
		{"deeply nested JSON", "application/json", "", []byte(`{"streams":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`), http.StatusBadRequest},
		{"truncated JSON", "application/json", "", []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1","x"`), http.StatusBadRequest},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.contentType)
		if tc.encoding != "" {
			req.Header.Set("Content-Encoding", tc.encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, resp.StatusCode, msg, tc.want)
		}
	}
	if !o.Running() {
		t.Fatal("obsd exited after bad input")
	}
	resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(snappy.Encode(nil, good)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("good push after bad ones: status %d", resp.StatusCode)
	}
	harness.Eventually(t, 20*time.Second, func() bool { return s.LogRecordCount() == 1 }, "sink has %d records, want 1", s.LogRecordCount())
	m := o.Metrics(t)
	for reason, want := range map[string]float64{"malformed": 4, "too_large": 2, "unsupported_media_type": 1} {
		if got := harness.Sum(m, "obsd_lokipush_rejected_requests_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("obsd_lokipush_rejected_requests_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}
