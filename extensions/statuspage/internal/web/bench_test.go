package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/status"
)

// many is a provider with n SLO instances, each with a full 720-point
// history, and 200 alert events.
func many(n int) *fakeProvider {
	p := known()
	snap := &p.snaps[0]
	base := snap.SLOs[1]
	snap.SLOs = nil
	for i := range n {
		s := base
		s.Name = fmt.Sprintf("slo-%03d", i)
		s.BudgetRemaining = float64(i) / float64(n)
		s.History = history(720, 0.99, 3)
		snap.SLOs = append(snap.SLOs, s)
	}
	for i := range 200 {
		snap.Alerts = append(snap.Alerts, status.AlertEvent{Transition: contract.Transition{At: t0.Add(time.Duration(i) * time.Second), SLO: "slo-001", State: contract.StateFiring}, Receivers: []string{"oncall"}})
	}
	return p
}

func benchPage(b *testing.B, path string) {
	h, err := New(many(100), Options{GrafanaURL: "https://grafana.example"})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkListPage renders the list of 100 SLO instances.
func BenchmarkListPage(b *testing.B) { benchPage(b, "/") }

// BenchmarkDetailPage renders one SLO with two 720-point charts.
func BenchmarkDetailPage(b *testing.B) { benchPage(b, "/slo/slo-001") }

// BenchmarkAPISLOs serves the JSON list of 100 SLO instances.
func BenchmarkAPISLOs(b *testing.B) { benchPage(b, "/api/v1/slos") }
