package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/status"
)

// defaultStatusPage is the embedded default config's status page.
const defaultStatusPage = "http://127.0.0.1:55680"

// defaultPorts are the embedded default config's OTLP ports.
var defaultPorts = ports{OTLPGRPC: 4317, OTLPHTTP: 4318, Health: 13133, Metrics: 8888}

// statusSLOs reads the status page's SLO list.
func statusSLOs(base string) ([]status.SLO, error) {
	resp, err := http.Get(base + "/api/v1/slos")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/slos: %s", resp.Status)
	}
	var body struct {
		SLOs []status.SLO `json:"slos"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	return body.SLOs, err
}

// findSLO returns the instance of slo for service, if listed.
func findSLO(slos []status.SLO, slo, service string) (status.SLO, bool) {
	for _, s := range slos {
		if s.Name == slo && s.Service == service {
			return s, true
		}
	}
	return status.SLO{}, false
}

// logProblems returns the lines of obsd's output logged at warn level or
// worse, in the console (default) or JSON encoding.
func logProblems(output string) []string {
	var out []string
	for _, line := range strings.Split(output, "\n") {
		for _, lvl := range []string{"warn", "error", "dpanic", "panic", "fatal"} {
			if strings.Contains(line, "\t"+lvl+"\t") || strings.Contains(line, `"level":"`+lvl+`"`) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// TestFirstRunShowsDiscoveredSLOsBurning is the newcomer's first run: `obsd`
// with no flags starts without a warning, and a burst of failing spans of a
// new service, demo, makes its discovered SLOs appear on the status page's
// JSON API, the availability SLO burning above its page threshold with the
// page firing.
func TestFirstRunShowsDiscoveredSLOsBurning(t *testing.T) {
	obsd := harness.StartDefault(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("obsd output:\n%s", obsd.Output())
		}
	})
	if !obsd.WaitOutput("Everything is ready", 10*time.Second) {
		t.Fatal("obsd never said it is ready")
	}
	if problems := logProblems(obsd.Output()); len(problems) > 0 {
		t.Errorf("a clean start logged %d warnings or errors:\n%s", len(problems), strings.Join(problems, "\n"))
	}
	slos, err := statusSLOs(defaultStatusPage)
	if err != nil {
		t.Fatal(err)
	}
	if len(slos) != 0 {
		t.Errorf("before any span the status page lists %d SLOs, want none (a discovered SLO appears with its first service)", len(slos))
	}

	start := time.Now()
	sendServerSpans(t, defaultPorts, "demo", 10, false)
	sendServerSpans(t, defaultPorts, "demo", 30, true)

	var avail status.SLO
	harness.Eventually(t, 30*time.Second, func() bool {
		slos, err := statusSLOs(defaultStatusPage)
		if err != nil {
			return false
		}
		var ok bool
		avail, ok = findSLO(slos, "availability", "demo")
		_, latency := findSLO(slos, "latency", "demo")
		return ok && latency && avail.State == contract.StateFiring
	}, "demo's discovered SLOs never showed up with the page firing")
	t.Logf("first failing span to the page firing on the status page: %s", time.Since(start).Round(100*time.Millisecond))

	var pageFactor float64
	for _, th := range avail.Thresholds {
		if th.Severity == contract.SeverityPage && th.Long == status.Duration(time.Hour) {
			pageFactor = th.BurnRate
		}
	}
	if pageFactor != 14.4 {
		t.Errorf("the 1h/5m page threshold is %v, want the SRE Workbook's 14.4 for 30d", pageFactor)
	}
	for _, w := range avail.Windows {
		if (w.Name == "5m" || w.Name == "1h") && w.BurnRate <= pageFactor {
			t.Errorf("burn rate over %s = %v, want above the page threshold %v", w.Name, w.BurnRate, pageFactor)
		}
	}
	for _, a := range avail.Alerts {
		if a.Severity == contract.SeverityPage && a.State != contract.StateFiring {
			t.Errorf("the page is %s, want firing", a.State)
		}
	}
	if avail.Events != 40 || avail.BadEvents != 30 {
		t.Errorf("availability of demo counted %v events, %v bad; want 40 and 30", avail.Events, avail.BadEvents)
	}
	if avail.Group[contract.LabelService] != "demo" || avail.Instance != "service=demo" {
		t.Errorf("the instance is %q (group %v), want service=demo", avail.Instance, avail.Group)
	}
	// The same SLOs are on obsd's own /metrics, named as every exported
	// rule and dashboard expects.
	m := obsd.Metrics(t)
	if v := harness.Sum(m, contract.MetricAlertActive, map[string]string{"slo": "availability", "service": "demo", "severity": "page"}); v != 1 {
		t.Errorf("%s{slo=availability,service=demo,severity=page} = %v, want 1", contract.MetricAlertActive, v)
	}
}

// shippedConfig is a shipped config rewritten to run in a test: every
// listen address on a free loopback port, the self-scrape pointed at the
// new metrics port.
func shippedConfig(t *testing.T, name string) harness.Config {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	cfg := harness.Config{HealthPort: harness.FreePort(t), MetricsPort: harness.FreePort(t)}
	ports := map[string]int{"13133": cfg.HealthPort, "8888": cfg.MetricsPort}
	udp := map[string]bool{"6831": true, "6832": true}
	endpoint := regexp.MustCompile(`endpoint: (?:0\.0\.0\.0|127\.0\.0\.1):(\d+)`)
	yaml := endpoint.ReplaceAllStringFunc(string(data), func(m string) string {
		old := endpoint.FindStringSubmatch(m)[1]
		if _, ok := ports[old]; !ok {
			if udp[old] {
				ports[old] = harness.FreeUDPPort(t)
			} else {
				ports[old] = harness.FreePort(t)
			}
		}
		return "endpoint: 127.0.0.1:" + strconv.Itoa(ports[old])
	})
	yaml = strings.NewReplacer(
		"host: 0.0.0.0", "host: 127.0.0.1",
		"port: 8888", "port: "+strconv.Itoa(cfg.MetricsPort),
		"127.0.0.1:8888", "127.0.0.1:"+strconv.Itoa(cfg.MetricsPort),
	).Replace(yaml)
	cfg.YAML = yaml
	return cfg
}

// fakeBackends answers every push (remote write, Loki, Alertmanager, the
// Kubernetes API's pod list) with success, and sets the environment the
// shipped configs read.
func fakeBackends(t *testing.T) (podList string) {
	t.Helper()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/pods") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","items":[]}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(ok.Close)
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := sink.NewOTLP(t)
	t.Setenv("OBSD_STORAGE_DIR", t.TempDir())
	t.Setenv("OBSD_SLO_FILES", filepath.Join(root, "slo.example.yaml"))
	t.Setenv("OBSD_OTLP_ENDPOINT", s.GRPCAddr)
	t.Setenv("OBSD_OTLP_INSECURE", "true")
	t.Setenv("OBSD_REMOTE_WRITE_URL", ok.URL+"/api/v1/push")
	t.Setenv("OBSD_LOKI_URL", ok.URL)
	t.Setenv("OBSD_ALERTMANAGER_URL", ok.URL)
	t.Setenv("K8S_NODE_NAME", "node-1")
	return ok.URL
}

// TestShippedConfigsStartWithoutAWarning runs config.example.yaml (as a
// DaemonSet agent would, against a Kubernetes API that lists no pod) and
// config.gateway.yaml with working backends: `obsd validate` and a few
// seconds of running log nothing at warn level or worse.
func TestShippedConfigsStartWithoutAWarning(t *testing.T) {
	for _, name := range []string{"config.example.yaml", "config.gateway.yaml"} {
		t.Run(name, func(t *testing.T) {
			api := fakeBackends(t)
			cfg := shippedConfig(t, name)
			if name == "config.example.yaml" {
				// What a pod would reach: the API server (here plain HTTP,
				// so no service account token or CA).
				cfg.ExtraArgs = []string{
					"--config", "yaml:processors::k8smeta::source::endpoint: " + api,
					"--config", `yaml:processors::k8smeta::source::token_file: ""`,
					"--config", `yaml:processors::k8smeta::source::ca_file: ""`,
				}
			}
			obsd := harness.Start(t, cfg)
			out, code := harness.Run(t, time.Minute, append([]string{"validate", "--config", obsd.ConfigPath}, cfg.ExtraArgs...)...)
			if code != 0 {
				t.Fatalf("obsd validate exited %d:\n%s", code, out)
			}
			if problems := logProblems(out); len(problems) > 0 {
				t.Errorf("obsd validate logged:\n%s", strings.Join(problems, "\n"))
			}
			// Long enough for the first exports, pod list and self-scrape.
			time.Sleep(5 * time.Second)
			obsd.Stop()
			if problems := logProblems(obsd.Output()); len(problems) > 0 {
				t.Errorf("%s logged %d warnings or errors from start to stop:\n%s", name, len(problems), strings.Join(problems, "\n"))
			}
		})
	}
}
