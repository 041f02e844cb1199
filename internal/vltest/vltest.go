// Package vltest runs the real VictoriaLogs on a free loopback port for
// tests, with its data in the test's temporary directory, and queries it
// with LogsQL. VictoriaLogs takes Loki's push API and OTLP logs, so it
// stands in for a log backend. It is imported by tests only.
package vltest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/internal/servertest"
)

const (
	// Binary is the VictoriaLogs program, looked up on PATH and in
	// $(go env GOPATH)/bin.
	Binary = "victoria-logs"
	// Version is the release the tests are written against.
	Version = "v1.52.2"
	// Install is the command that provides Binary (run it outside a module).
	Install = "go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@" + Version
)

// Paths of VictoriaLogs' ingestion endpoints, relative to Server.URL.
const (
	// LokiPushPath takes Loki's push API (protobuf+snappy or JSON); the
	// tenant is X-Scope-OrgID "accountID[:projectID]" (numbers) unless the
	// AccountID/ProjectID headers are set.
	LokiPushPath = "/insert/loki/api/v1/push"
	// OTLPPath is the base of the OTLP/HTTP logs endpoint: an OTLP exporter
	// given this as its endpoint posts to OTLPPath + "/v1/logs". The tenant
	// is the AccountID and ProjectID headers.
	OTLPPath = "/insert/opentelemetry"
)

// Tenant is a VictoriaLogs tenant. The zero value is the default tenant.
type Tenant struct{ AccountID, ProjectID uint32 }

func (t Tenant) String() string { return fmt.Sprintf("%d:%d", t.AccountID, t.ProjectID) }

// Server is one running VictoriaLogs. Stop and Start (from the embedded
// Process) take it down and bring it back on the same port and data.
type Server struct {
	*servertest.Process
	// URL is the base URL, http://127.0.0.1:PORT.
	URL string
}

// Start runs VictoriaLogs with its storage in a temporary directory;
// extraArgs are added to its flags (e.g. "-retentionPeriod=7d",
// "-loki.maxRequestSize=1MB"). It returns once /health answers 200.
func Start(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	bin := servertest.FindBinary(t, Binary, Install)
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", servertest.FreePort(t))
	args := append([]string{
		"-httpListenAddr=" + addr,
		"-storageDataPath=" + filepath.Join(dir, "data"),
		"-retentionPeriod=7d",
		// Data becomes searchable within a second rather than five.
		"-inmemoryDataFlushInterval=1s",
	}, extraArgs...)
	base := "http://" + addr
	p := servertest.Start(t, servertest.Spec{Name: "victoria-logs", Path: bin, Args: args, Dir: dir, ReadyURL: base + "/health"})
	return &Server{Process: p, URL: base}
}

// Query runs a LogsQL query over all time in tenant and returns the
// matching log entries, each as its fields (_msg, _time, _stream and the
// rest) with their string values.
func (s *Server) Query(t testing.TB, tenant Tenant, query string) []map[string]string {
	t.Helper()
	rows, err := s.TryQuery(tenant, query)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TryQuery is Query returning the error, for polling loops.
func (s *Server) TryQuery(tenant Tenant, query string) ([]map[string]string, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL+"/select/logsql/query",
		strings.NewReader(url.Values{"query": {query}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("AccountID", strconv.FormatUint(uint64(tenant.AccountID), 10))
	req.Header.Set("ProjectID", strconv.FormatUint(uint64(tenant.ProjectID), 10))
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("LogsQL query %q: %w", query, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("LogsQL query %q: %s: %s", query, resp.Status, msg)
	}
	var rows []map[string]string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		row := map[string]string{}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("LogsQL query %q: bad JSON line %q: %w", query, sc.Text(), err)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// Metric is the value of one series of VictoriaLogs' own /metrics, named
// exactly as exposed (e.g. `vl_rows_dropped_total{reason="too_small_timestamp"}`);
// 0 when absent.
func (s *Server) Metric(t testing.TB, series string) float64 {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatalf("victoria-logs /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("victoria-logs /metrics: %q: %v", line, err)
			}
			return f
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("victoria-logs /metrics: %v", err)
	}
	return 0
}
