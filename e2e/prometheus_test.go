package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestPrometheusScrape has obsd scrape a client_golang endpoint exposing a
// counter and a histogram, and checks the points reach the sink.
func TestPrometheusScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_requests_total", Help: "Requests."}, []string{"code"})
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "shop_request_duration_seconds", Help: "Latency.", Buckets: []float64{0.1, 0.5, 1}})
	reg.MustRegister(requests, latency)
	requests.WithLabelValues("200").Add(42)
	requests.WithLabelValues("500").Add(3)
	for _, v := range []float64{0.05, 0.2, 0.7, 2} {
		latency.Observe(v)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	s := sink.NewOTLP(t)
	p := newPorts(t)
	receivers := fmt.Sprintf(`
  prometheus:
    config:
      scrape_configs:
        - job_name: shop
          scrape_interval: 1s
          static_configs:
            - targets: ["%s"]`, l.Addr().String())
	pipelines := `
    metrics:
      receivers: [prometheus]
      processors: [memory_limiter]
      exporters: [otlp_grpc]`
	harness.Start(t, baseConfig(p, s, receivers, pipelines))

	var counter200 float64
	var histCount uint64
	var bounds []float64
	harness.Eventually(t, 30*time.Second, func() bool {
		for _, md := range s.Metrics() {
			for _, rm := range md.ResourceMetrics().All() {
				for _, sm := range rm.ScopeMetrics().All() {
					for _, m := range sm.Metrics().All() {
						switch {
						case strings.HasPrefix(m.Name(), "shop_requests") && m.Type() == pmetric.MetricTypeSum:
							for _, dp := range m.Sum().DataPoints().All() {
								if attrString(dp.Attributes(), "code") == "200" {
									counter200 = dp.DoubleValue()
								}
							}
						case m.Name() == "shop_request_duration_seconds" && m.Type() == pmetric.MetricTypeHistogram:
							dp := m.Histogram().DataPoints().At(0)
							histCount = dp.Count()
							bounds = dp.ExplicitBounds().AsRaw()
						}
					}
				}
			}
		}
		return counter200 > 0 && histCount > 0
	}, "scraped counter and histogram did not reach the sink (counter %v, histogram count %d)", counter200, histCount)

	if counter200 != 42 {
		t.Errorf("shop_requests_total{code=200} = %v, want 42", counter200)
	}
	if histCount != 4 || fmt.Sprint(bounds) != "[0.1 0.5 1]" {
		t.Errorf("histogram count %d bounds %v, want 4 and [0.1 0.5 1]", histCount, bounds)
	}
}
