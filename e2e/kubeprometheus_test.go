package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// prometheusBinary is Debian's Prometheus 2.42 (apt-get install prometheus;
// .ci/run installs it): a missing binary fails the test.
const prometheusBinary = "/usr/bin/prometheus"

// TestKubePrometheusSelfAlertFires is the Helm chart's kube-prometheus-stack
// path on a real Prometheus: the PrometheusRules the chart renders are
// loaded into Prometheus 2.42, which scrapes the real obsd the way the
// chart's ServiceMonitor tells the Prometheus Operator to (path, scheme,
// honorLabels, and the operator's target labels). obsd starts on an SLO
// snapshot that is corrupt, so ObsdSLOStateUnreadable (no `for`) must
// fire for state="slo" within a few scrapes, and obsd_slo_* must keep the
// SLO's own `service` label.
func TestKubePrometheusSelfAlertFires(t *testing.T) {
	chart := renderChart(t, "--set", "serviceMonitor.enabled=true,prometheusRule.enabled=true")

	dir := t.TempDir()
	writeSLOFile(t, dir)
	stateDir := filepath.Join(dir, "slo-state")
	if err := os.MkdirAll(stateDir, 0o750); err != nil {
		t.Fatal(err)
	}
	// The slo connector's snapshot (state.directory/slo-<id>.snapshot.json),
	// cut off mid-write.
	if err := os.WriteFile(filepath.Join(stateDir, "slo-slo.snapshot.json"), []byte(`{"version":1,"slos":[{"na`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPorts(t)
	o := harness.StartInDir(t, dir, baseConfig(p, sink.NewOTLP(t), sloConnectorConfig(""), sloPipelines))
	if !o.WaitOutput("slo snapshot unreadable, starting fresh", 10*time.Second) {
		t.Fatalf("obsd did not report the corrupt snapshot:\n%s", o.Output())
	}

	// Spans of the SLO's service, so obsd_slo_* carry service="checkout".
	sendServerSpans(t, p, "checkout", 5, false)

	target := fmt.Sprintf("127.0.0.1:%d", p.Metrics)
	prom := startPrometheus(t, chart.scrapeConfig(target), chart.ruleFile)

	var alert promAlert
	start := time.Now()
	harness.Eventually(t, 60*time.Second, func() bool {
		for _, a := range prom.alerts(t) {
			if a.Labels["alertname"] == "ObsdSLOStateUnreadable" && a.State == "firing" {
				alert = a
				return true
			}
		}
		return false
	}, "ObsdSLOStateUnreadable did not fire; alerts: %+v", prom.alerts(t))
	t.Logf("ObsdSLOStateUnreadable firing %s after Prometheus started", time.Since(start).Round(100*time.Millisecond))

	for k, want := range map[string]string{"state": "slo", "severity": "warning", "component": "obsd", "instance": target} {
		if alert.Labels[k] != want {
			t.Errorf("alert label %s=%q, want %q (labels %v)", k, alert.Labels[k], want, alert.Labels)
		}
	}
	if u := alert.Annotations["runbook_url"]; !strings.HasSuffix(u, "/docs/runbooks/slo-snapshot-unreadable.md") {
		t.Errorf("runbook_url %q does not link the runbook page", u)
	}
	for _, a := range prom.alerts(t) {
		if strings.HasPrefix(a.Labels["alertname"], "Obsd") && a.Labels["state"] != "slo" {
			t.Errorf("only the unreadable SLO snapshot holds, yet %s fires: %v", a.Labels["alertname"], a.Labels)
		}
	}
	// honorLabels keeps the SLO's service; without it the operator's
	// service target label would rename it exported_service.
	var series []map[string]string
	harness.Eventually(t, 30*time.Second, func() bool {
		series = prom.query(t, `obsd_slo_objective_ratio{slo="checkout-availability"}`)
		return len(series) > 0
	}, "Prometheus has no obsd_slo_objective_ratio of the SLO")
	if len(series) != 1 || series[0]["service"] != "checkout" || series[0]["exported_service"] != "" || series[0]["namespace"] != "obsd" {
		t.Errorf("obsd_slo_objective_ratio series %v: want one with the SLO's service=\"checkout\" and the target's namespace", series)
	}
	// Every rule of both PrometheusRules evaluates on real obsd metrics
	// without an error.
	for _, r := range prom.rules(t) {
		if r.Health == "err" {
			t.Errorf("rule %s fails to evaluate: %s", r.Name, r.LastError)
		}
	}
}

// renderedChart is what the e2e test takes from `helm template`.
type renderedChart struct {
	// ruleFile is the spec.groups of every PrometheusRule as one rule file.
	ruleFile []byte
	endpoint struct {
		Path        string `json:"path"`
		Scheme      string `json:"scheme"`
		HonorLabels bool   `json:"honorLabels"`
	}
}

// renderChart runs `helm template` on deploy/helm/obsd with args.
func renderChart(t *testing.T, args ...string) renderedChart {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"template", "obsd", filepath.Join(root, "deploy", "helm", "obsd"), "--namespace", "obsd"}, args...)
	out, err := exec.Command(helmPath(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm %v: %v\n%s", args, err, out)
	}
	var r renderedChart
	var groups []json.RawMessage
	monitors := 0
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		var obj struct {
			Kind string `json:"kind"`
			Spec struct {
				Groups    []json.RawMessage `json:"groups"`
				Endpoints []json.RawMessage `json:"endpoints"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		switch obj.Kind {
		case "PrometheusRule":
			groups = append(groups, obj.Spec.Groups...)
		case "ServiceMonitor":
			monitors++
			if len(obj.Spec.Endpoints) != 1 || json.Unmarshal(obj.Spec.Endpoints[0], &r.endpoint) != nil {
				t.Fatalf("ServiceMonitor endpoints: %s", obj.Spec.Endpoints)
			}
		}
	}
	if monitors != 1 || len(groups) == 0 {
		t.Fatalf("want one ServiceMonitor and PrometheusRule groups, got %d and %d groups", monitors, len(groups))
	}
	if r.ruleFile, err = yaml.Marshal(map[string]any{"groups": groups}); err != nil {
		t.Fatal(err)
	}
	return r
}

// scrapeConfig is the scrape job the Prometheus Operator makes of the
// ServiceMonitor's endpoint, on a static target instead of endpoint
// discovery, with the target labels the operator adds.
func (r renderedChart) scrapeConfig(target string) string {
	return fmt.Sprintf(`
  - job_name: obsd
    honor_labels: %t
    metrics_path: %s
    scheme: %s
    static_configs:
      - targets: [%q]
        labels: {namespace: obsd, service: obsd, pod: obsd-7x2kq, container: obsd, endpoint: metrics, node: node-1}
`, r.endpoint.HonorLabels, r.endpoint.Path, r.endpoint.Scheme, target)
}

func helmPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("helm not found on PATH or in $(go env GOPATH)/bin; .ci/run installs it")
	return ""
}

// promServer is a running Prometheus server.
type promServer struct{ base string }

// startPrometheus runs Prometheus on a free loopback port with scrape jobs
// and a rule file, evaluating every second, and waits until it is ready.
func startPrometheus(t *testing.T, scrapeConfigs string, rules []byte) promServer {
	t.Helper()
	if _, err := os.Stat(prometheusBinary); err != nil {
		t.Fatalf("%s: %v (apt-get install -y prometheus)", prometheusBinary, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yaml]\nscrape_configs:" + scrapeConfigs
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	var logs bytes.Buffer
	cmd := exec.Command(prometheusBinary, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	p := promServer{base: "http://" + addr}
	harness.Eventually(t, 30*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		resp, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "prometheus did not become ready")
	return p
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

type promRule struct {
	Name      string `json:"name"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

func (p promServer) get(t *testing.T, path string, data any) {
	t.Helper()
	resp, err := http.Get(p.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", path, resp.StatusCode, err, body)
	}
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if err := json.Unmarshal(envelope.Data, data); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, envelope.Data)
	}
}

func (p promServer) alerts(t *testing.T) []promAlert {
	t.Helper()
	var d struct {
		Alerts []promAlert `json:"alerts"`
	}
	p.get(t, "/api/v1/alerts", &d)
	return d.Alerts
}

func (p promServer) rules(t *testing.T) []promRule {
	t.Helper()
	var d struct {
		Groups []struct {
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	p.get(t, "/api/v1/rules", &d)
	var out []promRule
	for _, g := range d.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// query returns the label sets of an instant query's result.
func (p promServer) query(t *testing.T, q string) []map[string]string {
	t.Helper()
	var d struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
		} `json:"result"`
	}
	p.get(t, "/api/v1/query?query="+url.QueryEscape(q), &d)
	out := make([]map[string]string, 0, len(d.Result))
	for _, r := range d.Result {
		out = append(out, r.Metric)
	}
	return out
}
