package match

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

func attrs(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestMetricRatioMatch(t *testing.T) {
	slos, err := formats.Load("../formats/testdata/obsd.yaml")
	require.NoError(t, err)
	r := slos[0].SLI.Metric
	tests := []struct {
		name       string
		metric     string
		attrs      map[string]string
		total, bad bool
	}{
		{"a 5xx series of the job is both total and bad", "http_requests_total", map[string]string{"job": "checkout", "code": "503"}, true, true},
		{"a 2xx series of the job is only total", "http_requests_total", map[string]string{"job": "checkout", "code": "200"}, true, false},
		{"another job is neither", "http_requests_total", map[string]string{"job": "cart", "code": "500"}, false, false},
		{"another metric is neither", "rpc_total", map[string]string{"job": "checkout"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, bad := Ratio(r, tt.metric, attrs(tt.attrs))
			assert.Equal(t, tt.total, total)
			assert.Equal(t, tt.bad, bad)
		})
	}
}

func TestLatencyRole(t *testing.T) {
	slos, err := formats.Load("../formats/testdata/obsd.yaml")
	require.NoError(t, err)
	l := slos[1].SLI.Latency
	route := map[string]string{"http_route": "/pay"}
	withLE := func(le string) map[string]string { return map[string]string{"http_route": "/pay", "le": le} }
	tests := []struct {
		name   string
		metric string
		attrs  map[string]string
		want   LatencyRole
	}{
		{"the OTel histogram itself", "http_server_request_duration_seconds", route, LatencyHistogram},
		{"the Prometheus _count series", "http_server_request_duration_seconds_count", route, LatencyCount},
		{"the bucket at the threshold", "http_server_request_duration_seconds_bucket", withLE("0.3"), LatencyGood},
		{"the bucket at the threshold written differently", "http_server_request_duration_seconds_bucket", withLE("3e-1"), LatencyGood},
		{"another bucket", "http_server_request_duration_seconds_bucket", withLE("1"), NotLatency},
		{"the _sum series", "http_server_request_duration_seconds_sum", route, NotLatency},
		{"another route", "http_server_request_duration_seconds", map[string]string{"http_route": "/x"}, NotLatency},
		{"another metric", "http_server", route, NotLatency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Latency(l, tt.metric, attrs(tt.attrs)))
		})
	}
}

func TestSpanSLI(t *testing.T) {
	s := &spec.SpanSLI{Service: "cart", Route: regexp.MustCompile(`^(?:/cart/.*)$`), StatusError: true, HTTP5xx: true, DurationOver: 500 * time.Millisecond}
	assert.True(t, Span(s, "cart", "GET", "/cart/1"))
	assert.False(t, Span(s, "cart", "GET", "/pay"))
	assert.False(t, Span(s, "pay", "GET", "/cart/1"))
	tests := []struct {
		name   string
		err    bool
		status int64
		d      time.Duration
		want   bool
	}{
		{"a fast 200 is good", false, 200, time.Millisecond, false},
		{"a status error is bad", true, 200, time.Millisecond, true},
		{"a 503 is bad", false, 503, time.Millisecond, true},
		{"a 404 is good", false, 404, time.Millisecond, false},
		{"a slow span is bad", false, 200, 501 * time.Millisecond, true},
		{"exactly the threshold is good", false, 0, 500 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, SpanBad(s, tt.err, tt.status, tt.d))
		})
	}
}

// TestSpanAnyService: a discovered SLI (spec.SpanSLI.AnyService) counts
// the spans of every service but its ExceptServices, and never those of
// a span without a service.
func TestSpanAnyService(t *testing.T) {
	s := &spec.SpanSLI{AnyService: true, ExceptServices: []string{"cart", "pay"}, Name: regexp.MustCompile(`^(?:GET .*)$`)}
	tests := []struct {
		name, service, span string
		want                bool
	}{
		{"another service", "search", "GET /q", true},
		{"an excepted service", "cart", "GET /cart", false},
		{"the other excepted service", "pay", "GET /pay", false},
		{"no service", "", "GET /q", false},
		{"the name still filters", "search", "POST /q", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Span(s, tt.service, tt.span, ""))
		})
	}
}
