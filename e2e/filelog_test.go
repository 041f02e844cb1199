package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/obsd-dev/obsd/e2e/containerlogs"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
	"github.com/obsd-dev/obsd/internal/podlogs"
)

var (
	// cart logs in CRI format (containerd), api in Docker JSON (cri-dockerd).
	cartPod   = podlogs.Container{Namespace: "shop", Pod: "cart-7d9f6-x2kq", UID: podlogs.UID(1), Name: "cart", Restart: 2}
	apiPod    = podlogs.Container{Namespace: "shop", Pod: "api-5c4b8-q9zt", UID: podlogs.UID(2), Name: "api"}
	workerPod = podlogs.Container{Namespace: "jobs", Pod: "worker-0", UID: podlogs.UID(3), Name: "worker"}
	// The agent itself: obsd_obsd-<hash>, container obsd.
	selfPod = podlogs.Container{Namespace: "obsd", Pod: "obsd-x7k2p", UID: podlogs.UID(4), Name: "obsd"}
)

// fakeAPIServer lists pods for k8smeta as the API server would, with the
// labels its service.name fallback reads.
func fakeAPIServer(t *testing.T, cs ...podlogs.Container) string {
	t.Helper()
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
	for _, c := range cs {
		list.Items = append(list.Items, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: c.Pod, Namespace: c.Namespace, UID: types.UID(c.UID),
				Labels: map[string]string{"app.kubernetes.io/name": c.Name}},
			Spec:   corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: c.Name}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.0.0.%d", len(list.Items)+1)},
		})
	}
	body, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/pods" || r.URL.Query().Get("fieldSelector") != "spec.nodeName=node-1" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// cartSLO counts cart's container log lines, its stderr lines bad: a log
// SLI fed by file logs whose service.name k8smeta found by the pod uid.
const cartSLO = `version: obsd/v1
slos:
  - name: cart-stderr
    service: cart
    objective: 99
    period: 1h
    sli:
      logs:
        total: '{log.iostream=~"stdout|stderr"}'
        bad: '{log.iostream="stderr"}'
`

// writeNumbered appends n numbered lines of writer w (JSON or logfmt) to
// f, in format f.
func writeNumbered(t *testing.T, wr *podlogs.Writer, f podlogs.Format, w string, from, n int, asJSON bool) {
	t.Helper()
	var b strings.Builder
	for i := from; i < from+n; i++ {
		b.WriteString(podlogs.Line(f, time.Now(), containerlogs.Line(w, i, asJSON, 0)))
	}
	if err := wr.Write(b.String()); err != nil {
		t.Fatal(err)
	}
}

// TestContainerLogsFromFiles runs the agent on a tree shaped like
// /var/log/pods with config.example.yaml's file_log block: JSON lines with
// trace_id and logfmt lines with traceparent, in containerd CRI and Docker
// JSON files, and a line the runtime split in three (P, P, F), arrive once
// each with the ids lifted, the pod attributes from the path, service.name
// from k8smeta and the line joined; the agent's own container and the
// lines written before its first start are not read; after a restart it
// resumes where it stopped and reads a file created meanwhile from its start.
func TestContainerLogsFromFiles(t *testing.T) {
	root, dir := t.TempDir(), t.TempDir()
	s := sink.NewOTLP(t)
	containerlogs.WriteSLOs(t, dir, cartSLO)
	cfg := containerlogs.Config(t, containerlogs.Options{Root: root, Sink: s, SLOs: cartSLO,
		K8sAPI: fakeAPIServer(t, cartPod, apiPod, workerPod)})

	cart, err := podlogs.NewWriter(root, cartPod)
	if err != nil {
		t.Fatal(err)
	}
	defer cart.Close()
	// Before the agent's first start on the node: start_at: end skips it.
	writeNumbered(t, cart, podlogs.CRI, "history", 0, 3, true)

	obsd := harness.StartInDir(t, dir, cfg)
	tailOnFailure(t, obsd)
	if !obsd.WaitOutput("Started watching file", 30*time.Second) {
		t.Fatalf("file_log never picked up %s", cart.Path())
	}
	api, err := podlogs.NewWriter(root, apiPod)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	self, err := podlogs.NewWriter(root, selfPod)
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()

	writeNumbered(t, cart, podlogs.CRI, "cart-json", 0, 20, true)
	writeNumbered(t, cart, podlogs.CRI, "cart-logfmt", 0, 20, false)
	writeNumbered(t, api, podlogs.Docker, "api-json", 0, 20, true)
	writeNumbered(t, api, podlogs.Docker, "api-logfmt", 0, 20, false)
	writeNumbered(t, self, podlogs.CRI, "self", 0, 5, true)
	// A long JSON line the runtime split in three, the trace id across a
	// cut: only the joined line holds it.
	long := containerlogs.Line("cart-long", 0, true, 100)
	cut := strings.Index(long, "trace_id") + 20
	if err := cart.Write(podlogs.CRILine(time.Now(), "stdout", "P", long[:cut-10]) +
		podlogs.CRILine(time.Now(), "stdout", "P", long[cut-10:cut]) +
		podlogs.CRILine(time.Now(), "stdout", "F", long[cut:])); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	for i := range 5 {
		stderr.WriteString(podlogs.CRILine(time.Now(), "stderr", "F", containerlogs.Line("cart-err", i, false, 0)))
	}
	if err := cart.Write(stderr.String()); err != nil {
		t.Fatal(err)
	}

	written := map[string]int{"cart-json": 20, "cart-logfmt": 20, "api-json": 20, "api-logfmt": 20, "cart-long": 1, "cart-err": 5}
	res := waitLines(t, s, written, 60*time.Second)
	if res.Lost != 0 || res.Dup != 0 {
		t.Fatalf("want every line once: %s, first lost %v", res, res.FirstLost)
	}
	counts := containerlogs.Count(s.Logs())
	for _, w := range []string{"history", "self"} {
		for k := range counts {
			if k.Writer == w {
				t.Errorf("line %v must not be read (%s)", k, w)
			}
		}
	}
	checkContainerRecords(t, s.Logs())

	// The log SLI counted every cart line, found by the service.name k8smeta
	// set from the pod the path named.
	harness.Eventually(t, 30*time.Second, func() bool {
		m := obsd.Metrics(t)
		return harness.Sum(m, "obsd_slo_events_total", map[string]string{"slo": "cart-stderr"}) == 46 &&
			harness.Sum(m, "obsd_slo_bad_events_total", map[string]string{"slo": "cart-stderr"}) == 5
	}, "the cart-stderr log SLO did not count 46 events, 5 bad")

	// A restart resumes at the checkpoint; a file created while the agent
	// was down is read from its first line.
	obsd.Stop()
	writeNumbered(t, cart, podlogs.CRI, "cart-json", 20, 10, true)
	worker, err := podlogs.NewWriter(root, workerPod)
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Close()
	writeNumbered(t, worker, podlogs.CRI, "worker", 0, 10, false)
	obsd.Restart()
	written["cart-json"] = 30
	written["worker"] = 10
	res = waitLines(t, s, written, 60*time.Second)
	if res.Lost != 0 || res.Dup != 0 {
		t.Fatalf("after a restart want every line once: %s, first lost %v", res, res.FirstLost)
	}
	m := obsd.Metrics(t)
	if got := harness.Sum(m, "obsd_filelog_errors_total", nil); got != 0 {
		t.Errorf("obsd_filelog_errors_total = %v on clean input", got)
	}
}

// waitLines waits until every numbered line written arrived (or timeout)
// and returns the comparison.
func waitLines(t *testing.T, s *sink.OTLP, written map[string]int, timeout time.Duration) containerlogs.Result {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res := containerlogs.Count(s.Logs()).Check(written)
		if res.Lost == 0 || time.Now().After(deadline) {
			// Let late duplicates, if any, arrive too.
			time.Sleep(time.Second)
			return containerlogs.Count(s.Logs()).Check(written)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkContainerRecords checks every numbered record: ids lifted into the
// record, the pod attributes from the path, the node and service.name
// from k8smeta, the CRI stream, and the joined line whole.
func checkContainerRecords(t *testing.T, lds []plog.Logs) {
	t.Helper()
	pods := map[string]podlogs.Container{"cart": cartPod, "api": apiPod}
	for _, ld := range lds {
		for _, rl := range ld.ResourceLogs().All() {
			res := rl.Resource().Attributes()
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					body := lr.Body().AsString()
					k, ok := numbered(body)
					if !ok {
						continue
					}
					if got, want := lr.TraceID().String(), containerlogs.TraceID(k.Writer, k.Seq); got != want {
						t.Errorf("%v: trace id %s, want %s lifted from %q", k, got, want, body)
					}
					src, _ := lr.Attributes().Get("obsd.correlation.source")
					if want := map[bool]string{true: "trace_id", false: "traceparent"}[strings.HasPrefix(strings.TrimSpace(body), "{")]; src.Str() != want {
						t.Errorf("%v: lifted from %q, want %q", k, src.Str(), want)
					}
					c := pods[strings.SplitN(k.Writer, "-", 2)[0]]
					for attr, want := range map[string]string{
						"k8s.namespace.name": c.Namespace, "k8s.pod.name": c.Pod, "k8s.pod.uid": c.UID,
						"k8s.container.name": c.Name, "k8s.container.restart_count": fmt.Sprint(c.Restart),
						"k8s.node.name": "node-1", "service.name": c.Name,
					} {
						if v, _ := res.Get(attr); v.AsString() != want {
							t.Errorf("%v: resource %s = %q, want %q", k, attr, v.AsString(), want)
						}
					}
					stream := "stdout"
					if k.Writer == "cart-err" {
						stream = "stderr"
					}
					if v, _ := lr.Attributes().Get("log.iostream"); v.Str() != stream {
						t.Errorf("%v: log.iostream %q", k, v.Str())
					}
					if k.Writer == "cart-long" && body != containerlogs.Line("cart-long", 0, true, 100) {
						t.Errorf("the P, P, F line was not joined: %q", body)
					}
				}
			}
		}
	}
}

// tailOnFailure logs the tail of obsd's output when the test failed.
func tailOnFailure(t *testing.T, o *harness.Obsd) {
	t.Cleanup(func() {
		if t.Failed() {
			out := o.Output()
			if len(out) > 8000 {
				out = out[len(out)-8000:]
			}
			t.Logf("obsd output (tail):\n%s", out)
		}
	})
}

func numbered(body string) (containerlogs.Key, bool) {
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(body)
	for k := range containerlogs.Count([]plog.Logs{ld}) {
		return k, true
	}
	return containerlogs.Key{}, false
}

// TestContainerLogsBadInput: a line over the reader's limit is truncated,
// one over the container parser's limit split, both counted; binary
// garbage and invalid UTF-8 do not stop the file; an unreadable file and a
// dangling symlink (a removed container's log) are logged and counted; the
// agent runs as a non-root user, as in the DaemonSet, and never crashes.
func TestContainerLogsBadInput(t *testing.T) {
	root, dir := t.TempDir(), t.TempDir()
	s := sink.NewOTLP(t)
	cfg := containerlogs.Config(t, containerlogs.Options{Root: root, Sink: s})
	if os.Geteuid() == 0 {
		// Root reads files whatever their mode: run the agent as the
		// DaemonSet does, a non-root user in the supplementary group 0
		// (the runtimes write the logs 0640 root:root).
		cfg.RunAs = &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{0}}
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	obsd := harness.StartInDir(t, dir, cfg)
	tailOnFailure(t, obsd)
	time.Sleep(time.Second) // past the first poll: new files are read from their start

	cart, err := podlogs.NewWriter(root, cartPod)
	if err != nil {
		t.Fatal(err)
	}
	defer cart.Close()
	now := time.Now()
	ok := func(n int) string { return podlogs.CRILine(now, "stdout", "F", containerlogs.Line("ok", n, false, 0)) }
	lines := []string{
		ok(0),
		podlogs.CRILine(now, "stdout", "F", strings.Repeat("a", 600<<10)), // over the reader's 512 KiB: truncated
		ok(1),
		podlogs.Partial(now, strings.Repeat("b", 300<<10), 16<<10), // joined past 256 KiB: split
		ok(2),
		"\x00\x00\x00\xff\xfe\x01 binary garbage, no CRI prefix \x7f\x00\n", // parse_failed
		ok(3),
		podlogs.CRILine(now, "stdout", "F", "invalid utf-8 \xc3\x28 \xff w=ok seq=4"),
		ok(5),
	}
	for _, l := range lines {
		if err := cart.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	// A file nobody may read, and a removed container's dangling symlink.
	locked := podlogs.Container{Namespace: "shop", Pod: "locked", UID: podlogs.UID(5), Name: "app"}
	lw, err := podlogs.NewWriter(root, locked)
	if err != nil {
		t.Fatal(err)
	}
	if err := lw.Write(podlogs.CRILine(now, "stdout", "F", "secret")); err != nil {
		t.Fatal(err)
	}
	lw.Close()
	if err := os.Chmod(locked.Path(root), 0); err != nil {
		t.Fatal(err)
	}
	gone := podlogs.Container{Namespace: "shop", Pod: "gone", UID: podlogs.UID(6), Name: "app"}
	if err := os.MkdirAll(gone.Dir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "removed-container-json.log"), gone.Path(root)); err != nil {
		t.Fatal(err)
	}

	res := waitLines(t, s, map[string]int{"ok": 6}, 60*time.Second)
	if res.Lost != 0 || res.Dup != 0 {
		t.Fatalf("the lines around bad input must arrive once: %s, first lost %v", res, res.FirstLost)
	}
	var sizes []int
	for _, ld := range s.Logs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					if b := lr.Body().AsString(); strings.HasPrefix(b, "aaaa") || strings.HasPrefix(b, "bbbb") {
						sizes = append(sizes, len(b))
					}
					if strings.Contains(lr.Body().AsString(), "secret") {
						t.Error("the unreadable file was read")
					}
				}
			}
		}
	}
	// 600 KiB cut to 512 KiB minus the CRI prefix; 300 KiB in 16 KiB chunks
	// flushed once past 256 KiB (17 chunks), then the rest.
	prefix := len(podlogs.CRILine(now, "stdout", "F", ""))
	want := []int{512<<10 - prefix + 1, 17 * 16 << 10, 300<<10 - 17*16<<10}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("oversize records of %v bytes, want %v", sizes, want)
	}
	wantCounts := []struct {
		name   string
		labels map[string]string
		min    float64
		max    float64
	}{
		{"obsd_filelog_oversize_records_total", nil, 2, 2},
		{"obsd_filelog_errors_total", map[string]string{"reason": "parse_failed"}, 1, 1},
		{"obsd_filelog_errors_total", map[string]string{"reason": "unreadable"}, 1, 1},
		{"obsd_filelog_errors_total", map[string]string{"reason": "open_failed"}, 1, 1e9},
	}
	var last string
	harness.Eventually(t, 30*time.Second, func() bool {
		m := obsd.Metrics(t)
		last = ""
		ok := true
		for _, w := range wantCounts {
			got := harness.Sum(m, w.name, w.labels)
			last += fmt.Sprintf("%s%v = %v; ", w.name, w.labels, got)
			ok = ok && got >= w.min && got <= w.max
		}
		return ok
	}, "bad input counts: %s", lazy(func() string { return last }))
	for _, msg := range []string{"Failed to open file - unreadable", "Failed to open file", "Failed to process entry"} {
		if !strings.Contains(obsd.Output(), msg) {
			t.Errorf("obsd did not log %q", msg)
		}
	}
	if !obsd.Running() {
		t.Fatal("obsd exited on bad input")
	}
}
