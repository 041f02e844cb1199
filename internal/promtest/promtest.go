// Package promtest runs the real Prometheus (Debian's prometheus package,
// 2.42) on a free loopback port for tests, as a remote-write backend
// (--web.enable-remote-write-receiver) with the test's rule files, and
// queries it with PromQL. It is imported by tests only.
package promtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/internal/servertest"
)

const (
	// Binary is the Prometheus server, looked up on PATH.
	Binary = "prometheus"
	// Install provides Binary.
	Install = "apt-get install -y prometheus"
)

// Options are what a test may change about the server.
type Options struct {
	// Rules are rule files (name → content, as `obsd slo rules` writes
	// them) loaded through rule_files.
	Rules map[string]string
	// EvaluationInterval is how often rules run (default 1s).
	EvaluationInterval time.Duration
	// OutOfOrderWindow, when set, lets the TSDB take samples older than the
	// newest of their series by up to this much (storage.tsdb.out_of_order_time_window).
	OutOfOrderWindow time.Duration
	// Args are extra command-line flags.
	Args []string
}

// Server is one running Prometheus. Stop and Start (from the embedded
// Process) take it down and bring it back on the same port and TSDB.
type Server struct {
	*servertest.Process
	// URL is the base URL, http://127.0.0.1:PORT.
	URL string
}

// Start runs Prometheus with its TSDB in a temporary directory and returns
// once /-/ready answers 200.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := servertest.FindBinary(t, Binary, Install)
	dir := t.TempDir()
	if opts.EvaluationInterval == 0 {
		opts.EvaluationInterval = time.Second
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global:\n  evaluation_interval: %s\n", opts.EvaluationInterval)
	if opts.OutOfOrderWindow > 0 {
		fmt.Fprintf(&cfg, "storage:\n  tsdb:\n    out_of_order_time_window: %s\n", opts.OutOfOrderWindow)
	}
	if len(opts.Rules) > 0 {
		cfg.WriteString("rule_files:\n")
		names := make([]string, 0, len(opts.Rules))
		for name := range opts.Rules {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(opts.Rules[name]), 0o600); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&cfg, "  - %q\n", path)
		}
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", servertest.FreePort(t))
	args := append([]string{
		"--config.file=" + cfgPath,
		"--storage.tsdb.path=" + filepath.Join(dir, "tsdb"),
		"--web.listen-address=" + addr,
		"--web.enable-remote-write-receiver",
		"--log.level=info",
	}, opts.Args...)
	base := "http://" + addr
	p := servertest.Start(t, servertest.Spec{Name: "prometheus", Path: bin, Args: args, Dir: dir, ReadyURL: base + "/-/ready"})
	return &Server{Process: p, URL: base}
}

// RemoteWriteURL is where remote write goes.
func (s *Server) RemoteWriteURL() string { return s.URL + "/api/v1/write" }

// Sample is one series of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query evaluates expr at the current time and returns the vector.
func (s *Server) Query(t testing.TB, expr string) []Sample {
	t.Helper()
	out, err := s.TryQuery(expr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TryQuery is Query returning the error, for polling loops.
func (s *Server) TryQuery(expr string) ([]Sample, error) {
	return s.query(url.Values{"query": {expr}})
}

// Rule is one loaded rule with its last evaluation.
type Rule struct {
	Group     string
	Name      string // the record name or the alert name
	Type      string // "recording" or "alerting"
	Health    string // "ok", "err" or "unknown"
	LastError string
	State     string // alerting rules: "inactive", "pending", "firing"
}

// Rules lists the loaded rules (GET /api/v1/rules).
func (s *Server) Rules(t testing.TB) []Rule {
	t.Helper()
	var body struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Type      string `json:"type"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
					State     string `json:"state"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := s.get("/api/v1/rules", &body); err != nil {
		t.Fatal(err)
	}
	var out []Rule
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			out = append(out, Rule{Group: g.Name, Name: r.Name, Type: r.Type, Health: r.Health, LastError: r.LastError, State: r.State})
		}
	}
	return out
}

func (s *Server) get(path string, into any) error {
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(s.URL + path)
	if err != nil {
		return fmt.Errorf("prometheus GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("prometheus GET %s: %w", path, err)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("prometheus GET %s: %s: %w (body %.200s)", path, resp.Status, err, body)
	}
	return nil
}

// QueryAt evaluates expr at time at and returns the vector.
func (s *Server) QueryAt(expr string, at time.Time) ([]Sample, error) {
	return s.query(url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(at.UnixNano())/1e9, 'f', 3, 64)}})
}

// Point is one value of a range query.
type Point struct {
	T time.Time
	V float64
}

// Series is one series of a range query.
type Series struct {
	Labels map[string]string
	Points []Point
}

// QueryRange evaluates expr at start, start+step, ... up to end.
func (s *Server) QueryRange(expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	sec := func(t time.Time) string { return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64) }
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	q := url.Values{"query": {expr}, "start": {sec(start)}, "end": {sec(end)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', 3, 64)}}
	if err := s.get("/api/v1/query_range?"+q.Encode(), &body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query_range %q: %s", expr, body.Error)
	}
	out := make([]Series, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		ser := Series{Labels: r.Metric}
		for _, v := range r.Values {
			ts, _ := v[0].(float64)
			str, _ := v[1].(string)
			f, err := strconv.ParseFloat(str, 64)
			if err != nil {
				return nil, fmt.Errorf("query_range %q: value %v: %w", expr, v[1], err)
			}
			ser.Points = append(ser.Points, Point{T: time.Unix(0, int64(ts*1e9)).UTC(), V: f})
		}
		out = append(out, ser)
	}
	return out, nil
}

// query runs an instant query whose result must be a vector.
func (s *Server) query(q url.Values) ([]Sample, error) {
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := s.get("/api/v1/query?"+q.Encode(), &body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q.Get("query"), body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %s, want vector", q.Get("query"), body.Data.ResultType)
	}
	var result []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	if err := json.Unmarshal(body.Data.Result, &result); err != nil {
		return nil, fmt.Errorf("query %q: %w", q.Get("query"), err)
	}
	out := make([]Sample, 0, len(result))
	for _, r := range result {
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v: %w", q.Get("query"), r.Value[1], err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

// Alert is one active alert of the server's rules (GET /api/v1/alerts).
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// Alerts lists the pending and firing alerts.
func (s *Server) Alerts() ([]Alert, error) {
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []Alert `json:"alerts"`
		} `json:"data"`
	}
	if err := s.get("/api/v1/alerts", &body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("prometheus GET /api/v1/alerts: status %q", body.Status)
	}
	return body.Data.Alerts, nil
}
