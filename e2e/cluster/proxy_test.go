package cluster

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// rwProxy stands between obsd's remote write and Prometheus: it forwards
// every request unchanged and keeps, per client (the first path segment:
// /<client>/api/v1/write), what was sent: requests, compressed bytes,
// samples and series by SLO.
type rwProxy struct {
	url    string
	target string
	mu     sync.Mutex
	stats  map[string]*rwStats
}

// rwStats is what one client sent.
type rwStats struct {
	Requests, Bytes, Samples int
	// Series holds every series' labels (sorted name=value pairs, joined).
	Series map[string]map[string]bool // slo → series
	// WindowSumSamples and WindowSumBytes count the samples of
	// obsd_slo_window_* and their share of the bytes (by sample count).
	WindowSumSamples int
}

func startRWProxy(t *testing.T, target string) *rwProxy {
	t.Helper()
	p := &rwProxy{target: target, stats: map[string]*rwStats{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.url = "http://" + l.Addr().String()
	return p
}

// URL is the remote-write URL a client named client sends to.
func (p *rwProxy) URL(client string) string { return p.url + "/" + client + "/api/v1/write" }

func (p *rwProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.record(client, body)
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, p.target, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *rwProxy) record(client string, body []byte) {
	raw, err := snappy.Decode(nil, body)
	var wr prompb.WriteRequest
	if err == nil {
		err = wr.Unmarshal(raw)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats[client]
	if s == nil {
		s = &rwStats{Series: map[string]map[string]bool{}}
		p.stats[client] = s
	}
	s.Requests++
	s.Bytes += len(body)
	if err != nil {
		return
	}
	for _, ts := range wr.Timeseries {
		var slo, name string
		pairs := make([]string, 0, len(ts.Labels))
		for _, l := range ts.Labels {
			pairs = append(pairs, l.Name+"="+l.Value)
			switch l.Name {
			case "slo":
				slo = l.Value
			case "__name__":
				name = l.Value
			}
		}
		sort.Strings(pairs)
		if s.Series[slo] == nil {
			s.Series[slo] = map[string]bool{}
		}
		s.Series[slo][strings.Join(pairs, ",")] = true
		s.Samples += len(ts.Samples)
		if strings.HasPrefix(name, "obsd_slo_window_") {
			s.WindowSumSamples += len(ts.Samples)
		}
	}
}

// Stats returns a copy of what client sent.
func (p *rwProxy) Stats(client string) rwStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats[client]
	if s == nil {
		return rwStats{}
	}
	out := *s
	out.Series = map[string]map[string]bool{}
	for k, v := range s.Series {
		out.Series[k] = map[string]bool{}
		for x := range v {
			out.Series[k][x] = true
		}
	}
	return out
}
