package sink

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
)

// LokiStream is one stream a Loki sink received, with the tenant
// (X-Scope-OrgID) of the push that carried it.
type LokiStream struct {
	Tenant string
	Labels string
	Lines  []string
}

// Loki is a Loki push API backend for tests: it decodes snappy-compressed
// protobuf pushes on /loki/api/v1/push and keeps every stream with its
// push's X-Scope-OrgID.
type Loki struct {
	// URL is http://host:port (no path).
	URL string

	srv     *http.Server
	mu      sync.Mutex
	streams []LokiStream
}

// NewLoki starts a Loki sink on loopback; it is stopped at test cleanup.
func NewLoki(t testing.TB) *Loki {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("loki sink listen: %v", err)
	}
	s := &Loki{URL: "http://" + l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("/loki/api/v1/push", s.handlePush)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

func (s *Loki) handlePush(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		http.Error(w, "snappy: "+err.Error(), http.StatusBadRequest)
		return
	}
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		http.Error(w, "protobuf: "+err.Error(), http.StatusBadRequest)
		return
	}
	tenant := r.Header.Get("X-Scope-OrgID")
	s.mu.Lock()
	for _, st := range req.Streams {
		ls := LokiStream{Tenant: tenant, Labels: st.Labels}
		for _, e := range st.Entries {
			ls.Lines = append(ls.Lines, e.Line)
		}
		s.streams = append(s.streams, ls)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Streams returns every stream received so far.
func (s *Loki) Streams() []LokiStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LokiStream(nil), s.streams...)
}

// LinesByTenant maps each X-Scope-OrgID ("" for none) to its lines.
func (s *Loki) LinesByTenant() map[string][]string {
	out := map[string][]string{}
	for _, st := range s.Streams() {
		out[st.Tenant] = append(out[st.Tenant], st.Lines...)
	}
	return out
}
