package harness

import (
	"fmt"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics scrapes obsd's own /metrics and parses it as Prometheus text
// exposition; a parse error fails the test.
func (o *Obsd) Metrics(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := ScrapeMetrics(fmt.Sprintf("http://127.0.0.1:%d/metrics", o.MetricsPort))
	if err != nil {
		t.Fatalf("scrape obsd metrics: %v", err)
	}
	return families
}

// ScrapeMetrics fetches and parses a Prometheus text exposition.
func ScrapeMetrics(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// Sum adds the values of every sample of family name whose labels include
// all of want (counters, gauges and untyped; 0 when absent).
func Sum(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	mf, ok := families[name]
	if !ok {
		return 0
	}
	var total float64
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == k && lp.GetValue() == v {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
