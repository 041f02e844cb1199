package web

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/extensions/statuspage/internal/pipeline"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/status"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// fakeProvider serves fixed snapshots and a fixed pipeline view.
type fakeProvider struct {
	snaps []status.Snapshot
	view  pipeline.View
}

var _ Provider = (*fakeProvider)(nil)

func (f *fakeProvider) Snapshots() []status.Snapshot { return f.snaps }
func (f *fakeProvider) Pipeline() pipeline.View      { return f.view }

func windows(burn float64) []status.Window {
	var out []status.Window
	for _, n := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d", "period"} {
		out = append(out, status.Window{Name: n, BurnRate: burn, ErrorRatio: burn / 100})
	}
	return out
}

func history(n int, sli, burn float64) []status.Point {
	out := make([]status.Point, n)
	for i := range out {
		out[i] = status.Point{At: t0.Add(time.Duration(i) * time.Minute), SLI: sli, BurnShort: burn * float64(i) / float64(n), BurnLong: burn / 2}
	}
	return out
}

// known is a provider with three SLOs: one healthy with the least budget
// left among the quiet ones, one firing with more budget, one quiet.
func known() *fakeProvider {
	page := []status.Threshold{{Severity: "page", Long: status.Duration(time.Hour), Short: status.Duration(5 * time.Minute), BurnRate: 14.4}}
	return &fakeProvider{snaps: []status.Snapshot{{
		SLOs: []status.SLO{
			{Name: "api-latency", Service: "api", Objective: 0.99, Period: status.Duration(720 * time.Hour), Windows: windows(0.5),
				BudgetRemaining: 0.8, TimeToExhaustion: -1, State: contract.StateInactive, Source: "slo",
				DashboardPath: "/d/obsd-slo-api-latency/slo-api-latency?var-slo=api-latency", Thresholds: page},
			{Name: "checkout-availability", Service: "checkout", Objective: 0.999, Period: status.Duration(720 * time.Hour),
				Windows: windows(20), BudgetRemaining: 0.9, TimeToExhaustion: status.Duration(36 * time.Hour), State: contract.StateFiring,
				Alerts: []status.AlertStatus{{Severity: "page", State: contract.StateFiring, Enabled: true, Since: t0}}, Source: "slo",
				RunbookURL: "https://runbooks.example/checkout", DashboardPath: "/d/obsd-slo-checkout-availability/x?var-slo=checkout-availability",
				Thresholds: page, History: history(30, 0.98, 20)},
			{Name: "search", Service: "search", Instance: "region=eu", Group: map[string]string{"region": "eu"}, Objective: 0.95,
				Period: status.Duration(24 * time.Hour), Windows: windows(1), BudgetRemaining: 0.1, TimeToExhaustion: -1,
				State: contract.StateResolved, Source: "slo"},
		},
		Alerts: []status.AlertEvent{
			{Transition: contract.Transition{At: t0.Add(-time.Minute), SLO: "checkout-availability", Service: "checkout", Severity: "page", State: contract.StatePending}, Receivers: []string{}},
			{Transition: contract.Transition{At: t0, SLO: "checkout-availability", Service: "checkout", Severity: "page", State: contract.StateFiring,
				LongWindow: time.Hour, ShortWindow: 5 * time.Minute, BurnRateLong: 20, BurnRateShort: 25,
				Threshold: 14.4}, Receivers: []string{"oncall"}},
		},
		Destinations: []status.Destination{{Name: "oncall", Queued: 1, Breakers: map[string]string{"http://127.0.0.1:9093": "closed"},
			LastError: "connection refused", LastErrorAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
	}}}
}

func serve(t *testing.T, p Provider, opts Options, path string) (int, string, http.Header) {
	t.Helper()
	h, err := New(p, opts)
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(body), rec.Header()
}

func TestTheJSONAPI(t *testing.T) {
	opts := Options{GrafanaURL: "https://grafana.example/"}
	tests := []struct {
		name  string
		path  string
		code  int
		check func(t *testing.T, body []byte)
	}{
		{"the list puts the firing SLO first, then the least budget left", "/api/v1/slos", 200, func(t *testing.T, body []byte) {
			var got struct{ SLOs []status.SLO }
			require.NoError(t, json.Unmarshal(body, &got))
			require.Len(t, got.SLOs, 3)
			assert.Equal(t, []string{"checkout-availability", "search", "api-latency"}, []string{got.SLOs[0].Name, got.SLOs[1].Name, got.SLOs[2].Name})
			assert.Nil(t, got.SLOs[0].History, "the list carries no history")
			assert.Equal(t, "https://grafana.example/d/obsd-slo-checkout-availability/x?var-slo=checkout-availability", got.SLOs[0].DashboardURL)
			assert.Equal(t, 36*time.Hour, got.SLOs[0].TimeToExhaustion.Std())
			assert.Equal(t, status.Duration(-1), got.SLOs[1].TimeToExhaustion, "never exhausting is -1")
		}},
		{"the detail carries the history and the SLO's alerts", "/api/v1/slos/checkout-availability", 200, func(t *testing.T, body []byte) {
			var got struct {
				Name      string
				Instances []status.SLO
				Alerts    []status.AlertEvent
			}
			require.NoError(t, json.Unmarshal(body, &got))
			require.Len(t, got.Instances, 1)
			assert.Len(t, got.Instances[0].History, 30)
			require.Len(t, got.Alerts, 2)
			assert.Equal(t, contract.StateFiring, got.Alerts[0].State, "newest first")
		}},
		{"an unknown SLO is a 404 with a JSON error", "/api/v1/slos/nope", 404, func(t *testing.T, body []byte) {
			assert.Contains(t, string(body), `no slo named \"nope\"`)
		}},
		{"the alerts list transitions newest first and the destinations", "/api/v1/alerts", 200, func(t *testing.T, body []byte) {
			var got struct {
				Alerts       []status.AlertEvent
				Destinations []status.Destination
			}
			require.NoError(t, json.Unmarshal(body, &got))
			require.Len(t, got.Alerts, 2)
			assert.Equal(t, []string{"oncall"}, got.Alerts[0].Receivers)
			assert.Equal(t, 1, got.Destinations[0].Queued)
		}},
		{"the pipeline view is served as is", "/api/v1/pipeline", 200, func(t *testing.T, body []byte) {
			assert.Contains(t, string(body), `"pipelines"`)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := serve(t, known(), opts, tc.path)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, "application/json", hdr.Get("Content-Type"))
			tc.check(t, []byte(body))
		})
	}
}

// An agent in ruler mode decides no alert: the list and the detail page
// say the ruler does, instead of a state.
func TestRulerDecidedSLOsSaySo(t *testing.T) {
	p := &fakeProvider{snaps: []status.Snapshot{{SLOs: []status.SLO{
		{Name: "checkout-spans", Service: "checkout", Objective: 0.99, Period: status.Duration(time.Hour), Windows: windows(40),
			State: contract.StateInactive, Alerts: []status.AlertStatus{}, AlertsDecidedBy: contract.AlertsRuler, Source: "slo"},
		{Name: "api", Service: "api", Objective: 0.99, Period: status.Duration(time.Hour), Windows: windows(1),
			State: contract.StateInactive, AlertsDecidedBy: contract.AlertsLocal, Source: "slo"},
	}}}}
	_, body, _ := serve(t, p, Options{}, "/")
	assert.Contains(t, body, "Alerts of 1 SLO instances are decided by the ruler")
	assert.Contains(t, body, `<span class="state state-ruler" title="decided by the ruler">RULER</span>`)
	assert.Contains(t, body, `<span class="state state-inactive">INACTIVE</span>`, "the local SLO keeps its state")
	_, body, _ = serve(t, p, Options{}, "/slo/checkout-spans")
	assert.Contains(t, body, "Alerts are decided by the ruler")
	_, body, _ = serve(t, p, Options{}, "/api/v1/slos")
	assert.Contains(t, body, `"alertsDecidedBy": "ruler"`)
	_, body, _ = serve(t, known(), Options{}, "/")
	assert.NotContains(t, body, "decided by the ruler", "nothing said where no SLO is ruler-decided")
}

func TestTheAPIWithNoSourceListsNothing(t *testing.T) {
	code, body, _ := serve(t, &fakeProvider{}, Options{}, "/api/v1/slos")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"slos": []}`, body)
	_, body, _ = serve(t, &fakeProvider{}, Options{}, "/api/v1/alerts")
	assert.JSONEq(t, `{"alerts": [], "destinations": []}`, body)
}

func TestTheHTMLPages(t *testing.T) {
	tests := []struct {
		name, path string
		code       int
		want       []string
		order      []string // substrings that must appear in this order
		not        []string
	}{
		{name: "the list shows state as text, links and the firing SLO first", path: "/", code: 200,
			want: []string{`<th scope="col">Alert state</th>`, `<span class="state state-firing">FIRING</span>`,
				`<a class="runbook" href="https://runbooks.example/checkout">`, `<a class="dashboard" href="https://grafana.example/d/obsd-slo-checkout-availability/x?var-slo=checkout-availability">`,
				`<a href="/slo/checkout-availability">checkout-availability</a>`, "1d 12h", "never", "region=eu",
				`<noscript><meta http-equiv="refresh" content="5"></noscript>`, `<script src="/static/refresh.js" defer></script>`,
				"1 firing", "oncall"},
			order: []string{"checkout-availability", "search", "api-latency"}},
		{name: "the detail page draws both charts with thresholds and the alert history", path: "/slo/checkout-availability", code: 200,
			want: []string{`<svg class="chart"`, `role="img"`, "objective 99.9%", "page 14.4×", "burn rate 5m", "burn rate 1h",
				"not sent while pending", "oncall (1 queued)", `<a class="runbook" href="https://runbooks.example/checkout">`, "<caption>Windows</caption>"}},
		{name: "an unknown SLO's page is a 404 that says so", path: "/slo/nope", code: 404, want: []string{"No SLO named nope"}},
		{name: "the pipeline page lists each stage and the agent's health tables", path: "/pipeline", code: 200,
			want: []string{"traces", "otlp", "accepted 10/s", "queue 5 / 100 (5%)", "exp-breaker", "OPEN", "tenant-a", "slow", "checkout", "50%", "oncall",
				"not yet", "2026-01-02 03:04:05 UTC connection refused"}},
		{name: "unknown paths are 404", path: "/nope", code: 404},
	}
	p := known()
	ten, five, hundred, half := 10.0, 5.0, 100.0, 0.5
	p.view = pipeline.View{Pipelines: []pipeline.PipelineView{{Name: "traces", Signal: "traces",
		Receivers: []pipeline.Component{{ID: "otlp", Accepted: &ten}},
		Exporters: []pipeline.Component{{ID: "otlp_grpc", Sent: &ten, QueueSize: &five, QueueCapacity: &hundred}}}},
		Breakers:    []pipeline.Breaker{{Name: "exp-breaker", State: "open"}},
		RateLimited: []pipeline.RateLimited{{Client: "tenant-a", Tier: "default", Refused: 3, RefusedPerSecond: 1}},
		Shed:        []pipeline.Shed{{Signal: "logs", Reason: "slow", Items: 4}},
		Coverage:    []pipeline.Coverage{{Service: "checkout", Ratio: half}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := serve(t, p, Options{GrafanaURL: "https://grafana.example"}, tc.path)
			assert.Equal(t, tc.code, code)
			if code == 200 {
				assert.Equal(t, "text/html; charset=utf-8", hdr.Get("Content-Type"))
				assert.Contains(t, hdr.Get("Content-Security-Policy"), "default-src 'self'")
			}
			for _, w := range tc.want {
				assert.Contains(t, body, w)
			}
			last := -1
			for _, w := range tc.order {
				i := strings.Index(body, `<a href="/slo/`+w+`">`)
				assert.Greater(t, i, last, "%s is out of order", w)
				last = i
			}
		})
	}
}

func TestTheAssetsAreEmbeddedAndNothingIsFetchedFromElsewhere(t *testing.T) {
	for _, path := range []string{"/static/style.css", "/static/refresh.js"} {
		code, body, _ := serve(t, known(), Options{}, path)
		assert.Equal(t, 200, code, path)
		assert.NotEmpty(t, body)
	}
	for _, path := range []string{"/", "/slo/checkout-availability", "/pipeline"} {
		_, body, _ := serve(t, known(), Options{}, path)
		for _, ext := range []string{`src="http`, `href="//`, `src="//`, "cdn"} {
			assert.NotContains(t, body, ext, "%s references an external asset", path)
		}
	}
}

func TestTheBurnChartMatchesItsGoldenFile(t *testing.T) {
	slo := known().snaps[0].SLOs[1]
	got := string(BurnChart(&slo).SVG("c"))
	path := filepath.Join("testdata", "burn_chart.svg")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), got)
}

func TestChartsWithoutDataStillRender(t *testing.T) {
	svg := string(SLIChart(&status.SLO{Name: "x", Objective: 0.99}).SVG("e"))
	assert.Contains(t, svg, "no data yet")
	assert.True(t, strings.HasSuffix(svg, "</svg>"))
	one := string(BurnChart(&status.SLO{Name: "x", History: history(1, 1, 3)}).SVG("o"))
	assert.Contains(t, one, "<circle", "one point is drawn as a dot")
}

func TestFormatting(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"a ratio is a percentage", pct(0.999), "99.9%"},
		{"an overspent budget stays readable", pct(-665.67), "-66567%"},
		{"a long time shows days and hours", tte(status.Duration(36*time.Hour + 5*time.Minute)), "1d 12h"},
		{"a zero second unit is left out", human(5 * time.Minute), "5m"},
		{"no exhaustion reads never", tte(-1), "never"},
		{"a spent budget reads exhausted", tte(0), "exhausted"},
		{"an unknown rate is a dash", perSec(nil), "–"},
		{"a burn rate has a times sign", burn(status.Window{BurnRate: 14.4}), "14.4×"},
		{"a window without events says so", burn(status.Window{NoData: true}), "no data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, tc.got) })
	}
}

func TestSortSLOs(t *testing.T) {
	tests := []struct {
		name string
		in   []status.SLO
		want []string
	}{
		{"firing before pending before the rest", []status.SLO{
			{Name: "quiet", State: contract.StateInactive, BudgetRemaining: -5},
			{Name: "pending", State: contract.StatePending, BudgetRemaining: 0.5},
			{Name: "firing", State: contract.StateFiring, BudgetRemaining: 0.9},
		}, []string{"firing", "pending", "quiet"}},
		{"a resolved SLO sorts by budget like an inactive one", []status.SLO{
			{Name: "resolved", State: contract.StateResolved, BudgetRemaining: 0.7},
			{Name: "inactive", State: contract.StateInactive, BudgetRemaining: 0.2},
		}, []string{"inactive", "resolved"}},
		{"equal budgets fall back to the name", []status.SLO{
			{Name: "b", BudgetRemaining: 1}, {Name: "a", BudgetRemaining: 1},
		}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			SortSLOs(tc.in)
			var got []string
			for _, s := range tc.in {
				got = append(got, s.Name)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
