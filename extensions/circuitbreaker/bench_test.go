package circuitbreaker

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// okTransport answers 200 without a network.
type okTransport struct{}

func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

// BenchmarkRoundTripClosed is the breaker's overhead on a call through a
// closed circuit.
func BenchmarkRoundTripClosed(b *testing.B) {
	br, _ := newTestBreaker(b, "bench", testConfig(), newStatusHost())
	rt := roundTripper{b: br, next: okTransport{}}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://127.0.0.1:1/", http.NoBody)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripOpen is the cost of failing fast through an open
// circuit (the synthetic 503 is built per call).
func BenchmarkRoundTripOpen(b *testing.B) {
	cfg := testConfig()
	cfg.Delay = time.Hour
	br, _ := newTestBreaker(b, "bench", cfg, newStatusHost())
	br.cb.Open()
	rt := roundTripper{b: br, next: okTransport{}}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://127.0.0.1:1/", strings.NewReader("x"))
		resp, _ := rt.RoundTrip(req)
		_, _ = io.Copy(io.Discard, resp.Body)
	}
}
