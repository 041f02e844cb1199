package slo

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// discoveredSLO is testSLO counting the spans of every service, one
// instance per service, capped at limit.
func discoveredSLO(limit int) *spec.SLO {
	s := testSLO("availability", 0.999)
	s.Service = ""
	s.SLI.Spans = &spec.SpanSLI{AnyService: true, StatusError: true}
	s.GroupByLimit = limit
	return s
}

func serviceInstance(e *Engine, svc string) *Instance {
	h := HashString(HashSeed, svc)
	return e.Instance(0, h, func() map[string]string { return map[string]string{contract.LabelService: svc} }, minute(1))
}

func TestAnInstanceGroupedByServiceIsThatServices(t *testing.T) {
	tests := []struct {
		name        string
		services    []string
		limit       int
		wantService []string // per instance, in creation order
	}{
		{"each service's instance reports that service", []string{"demo", "checkout"}, 10, []string{"demo", "checkout"}},
		{"services beyond the cap share the overflow instance", []string{"a", "b", "c"}, 1, []string{"a", OverflowValue}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := newTestEngine(t, discoveredSLO(tt.limit))
			for _, svc := range tt.services {
				in := serviceInstance(e, svc)
				for range 20 {
					e.AddEvents(in, minute(1), 1, 1)
				}
			}
			var got []string
			e.Evaluate(context.Background(), minute(1), func(s *Status) {
				got = append(got, s.Service)
				assert.Equal(t, s.Service, s.Group[contract.LabelService], "the group label and the service agree")
			})
			assert.Equal(t, tt.wantService, got)
			require.NotEmpty(t, rec.got, "a burst of errors pages")
			for _, tr := range rec.got {
				assert.Equal(t, tr.Service, tr.Labels[contract.LabelService], "the page names the discovered service")
			}
		})
	}
}

func TestTheSpecOfADiscoveredSLOIsGroupedByService(t *testing.T) {
	assert.Equal(t, []string{contract.LabelService}, discoveredSLO(0).GroupBy())
	s := testSLO("explicit", 0.99)
	s.SLI.Spans = &spec.SpanSLI{Service: "svc", StatusError: true}
	assert.Nil(t, s.GroupBy(), "an explicit span SLO is not grouped")
}

// A discovered instance survives a restart through the snapshot, unless
// its service has SLOs of its own by then (the new config excepts it).
func TestDiscoveredInstancesRestoreUnlessTheirServiceIsExceptedNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slo.snapshot")
	e, _ := newTestEngine(t, discoveredSLO(10))
	for _, svc := range []string{"demo", "checkout"} {
		e.AddEvents(serviceInstance(e, svc), minute(1), 5, 1)
	}
	require.NoError(t, e.WriteSnapshot(path, minute(1)))

	tests := []struct {
		name   string
		except []string
		want   map[string]float64 // events by service
	}{
		{"the same config restores every service", nil, map[string]float64{"demo": 5, "checkout": 5}},
		{"a service with SLOs of its own now is dropped", []string{"checkout"}, map[string]float64{"demo": 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := discoveredSLO(10)
			s.SLI.Spans.ExceptServices = tt.except
			e2, _ := newTestEngine(t, s)
			require.NoError(t, e2.RestoreSnapshot(path, minute(1)))
			got := map[string]float64{}
			e2.Evaluate(context.Background(), minute(1), func(s *Status) { got[s.Service] = s.Events })
			assert.Equal(t, tt.want, got)
		})
	}
}
