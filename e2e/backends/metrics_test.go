package backends

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/internal/promtest"
)

// shopSLOs is a metric SLO on the scraped shop_requests_total, with a
// short page window pair so that Prometheus' rules and obsd's engine both
// see a burn within seconds.
const shopSLOs = `version: obsd/v1
slos:
  - name: shop-availability
    service: shop
    objective: 99
    period: 1h
    labels: {team: web}
    sli:
      metric:
        bad: 'shop_requests_total{code=~"5.."}'
        total: 'shop_requests_total'
    alerting:
      min_events: 5
      page:
        windows:
          - {long: 5m, short: 2m, burn_rate: 2}
      ticket:
        enabled: false
`

// shopTarget is a client_golang endpoint whose request counter grows by 9
// successes and 1 failure every 100ms (an error ratio of exactly 0.1) and
// a gauge, on a free loopback port.
type shopTarget struct {
	addr string
	stop chan struct{}
}

func startShopTarget(t *testing.T) *shopTarget {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_requests_total", Help: "Requests by status code."}, []string{"code"})
	depth := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "shop_queue_depth", Help: "Queued orders."}, []string{"queue"})
	reg.MustRegister(requests, depth)
	depth.WithLabelValues("orders").Set(7)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	st := &shopTarget{addr: l.Addr().String(), stop: make(chan struct{})}
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-st.stop:
				return
			case <-tick.C:
				requests.WithLabelValues("200").Add(9)
				requests.WithLabelValues("500").Add(1)
			}
		}
	}()
	t.Cleanup(func() { close(st.stop); _ = srv.Close() })
	return st
}

// metricsConfig is obsd scraping target every second into remote write to
// Prometheus, with the slo connector on the scraped stream and its
// obsd_slo_* series remote-written too, as config.example.yaml does.
func metricsConfig(target, remoteWrite string) obsdConfig {
	return obsdConfig{
		Receivers: fmt.Sprintf(`  prometheus:
    config:
      scrape_configs:
        - job_name: shop
          scrape_interval: 1s
          static_configs:
            - targets: ["%s"]
`, target),
		Exporters: []exporter{remoteWriteExporter("prometheus_remote_write", remoteWrite)},
		Connectors: `  slo:
    slos: ["{{DIR}}/slo.yaml"]
    evaluation_interval: 1s
    state:
      directory: "{{DIR}}/slo-state"
      snapshot_interval: 1s
`,
		Pipelines: `    metrics/scraped:
      receivers: [prometheus]
      processors: [memory_limiter]
      exporters: [prometheus_remote_write, slo]
    metrics/slo:
      receivers: [slo]
      exporters: [prometheus_remote_write]`,
	}
}

// startWithSLOFile starts obsd on c with shopSLOs as {{DIR}}/slo.yaml.
func startWithSLOFile(t *testing.T, c obsdConfig) *harness.Obsd {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(shopSLOs), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPorts(t)
	o := harness.StartInDir(t, dir, c.harness(p))
	t.Cleanup(func() {
		if t.Failed() {
			out := o.Output()
			t.Logf("obsd output (tail):\n%s", out[max(0, len(out)-8000):])
		}
	})
	return o
}

// sloRules is what `obsd slo rules` writes for shopSLOs.
func sloRules(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slo.yaml")
	if err := os.WriteFile(path, []byte(shopSLOs), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := harness.Run(t, time.Minute, "slo", "rules", "--slo", path)
	if code != 0 {
		t.Fatalf("obsd slo rules: exit %d\n%s", code, out)
	}
	return out
}

// TestMetricsReachPrometheus: obsd scrapes a target and remote-writes the
// samples and its obsd_slo_* series to a real Prometheus that runs the
// rules `obsd slo rules` exports for the same SLO. Prometheus answers
// PromQL for the scraped series with their labels (job, instance and the
// target's own), for obsd's SLO series with theirs, and its recording and
// alerting rules evaluate on the remote-written data without error, to
// the same error ratio obsd computes.
func TestMetricsReachPrometheus(t *testing.T) {
	t.Parallel()
	target := startShopTarget(t)
	prom := promtest.Start(t, promtest.Options{Rules: map[string]string{"slo-rules.yml": sloRules(t)}})
	startWithSLOFile(t, metricsConfig(target.addr, prom.RemoteWriteURL()))

	// The scraped series, with the scrape's job and instance.
	var codes []promtest.Sample
	eventually(t, prom, `shop_requests_total`, func(s []promtest.Sample) bool { codes = s; return len(s) == 2 })
	for _, s := range codes {
		want := map[string]string{"__name__": "shop_requests_total", "job": "shop", "instance": target.addr, "code": s.Labels["code"]}
		if fmt.Sprint(s.Labels) != fmt.Sprint(want) || (s.Labels["code"] != "200" && s.Labels["code"] != "500") || s.Value <= 0 {
			t.Errorf("scraped series %v = %v, want labels %v and a positive value", s.Labels, s.Value, want)
		}
	}
	gauge := prom.Query(t, `shop_queue_depth`)
	if len(gauge) != 1 || gauge[0].Value != 7 || gauge[0].Labels["queue"] != "orders" || gauge[0].Labels["job"] != "shop" {
		t.Errorf("shop_queue_depth = %v, want 7 with queue=orders, job=shop", gauge)
	}

	// obsd's SLO series, with the SLO's labels.
	sel := `{slo="shop-availability",service="shop",team="web"}`
	eventually(t, prom, `obsd_slo_events_total`+sel, func(s []promtest.Sample) bool { return len(s) == 1 && s[0].Value > 100 })
	eventually(t, prom, `obsd_slo_objective_ratio`+sel, func(s []promtest.Sample) bool { return len(s) == 1 && s[0].Value == 0.99 })
	eventually(t, prom, `obsd_slo_sli_error_ratio{slo="shop-availability",window="5m"}`, func(s []promtest.Sample) bool {
		return len(s) == 1 && near(s[0].Value, 0.1, 0.02)
	})
	eventually(t, prom, `obsd_slo_alert_active{slo="shop-availability",severity="page"}`, func(s []promtest.Sample) bool {
		return len(s) == 1 && s[0].Value == 1
	})

	// The exported rules, evaluated by Prometheus on the remote-written samples.
	eventually(t, prom, `obsd_slo:sli_error:ratio_rate5m`+sel, func(s []promtest.Sample) bool { return len(s) == 1 && near(s[0].Value, 0.1, 0.02) })
	eventually(t, prom, `obsd_slo:sli_error:ratio_rate2m`+sel, func(s []promtest.Sample) bool { return len(s) == 1 && near(s[0].Value, 0.1, 0.02) })
	eventually(t, prom, `obsd_slo:sli_events:increase5m`+sel, func(s []promtest.Sample) bool { return len(s) == 1 && s[0].Value >= 5 })
	eventually(t, prom, `ALERTS{alertname="SLOErrorBudgetBurn",slo="shop-availability",severity="page",alertstate="firing"}`,
		func(s []promtest.Sample) bool { return len(s) == 1 })
	var names []string
	for _, r := range prom.Rules(t) {
		names = append(names, r.Name)
		if r.Health != "ok" {
			t.Errorf("rule %s of group %s: health %q, last error %q", r.Name, r.Group, r.Health, r.LastError)
		}
	}
	sort.Strings(names)
	if len(names) < 4 {
		t.Errorf("Prometheus loaded rules %v, want the SLO's recording and alerting rules", names)
	}
}

// eventually polls an instant query until ok holds on its result.
func eventually(t *testing.T, prom *promtest.Server, expr string, ok func([]promtest.Sample) bool) {
	t.Helper()
	var last []promtest.Sample
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for {
		last, err = prom.TryQuery(expr)
		if err == nil && ok(last) {
			return
		}
		if time.Now().After(deadline) {
			names, _ := prom.TryQuery(`group by (__name__) ({__name__=~"obsd_slo.*|shop.*"})`)
			t.Fatalf("after 60s: Prometheus: %s = %v (error %v); the series names it holds: %v", expr, describe(last), err, describe(names))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func describe(s []promtest.Sample) string {
	var b strings.Builder
	for _, x := range s {
		fmt.Fprintf(&b, "%v=%v ", x.Labels, x.Value)
	}
	return b.String()
}

func near(v, want, tol float64) bool { return math.Abs(v-want) <= tol }
