package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"net"

	"github.com/obsd-dev/obsd/slo/contract"
)

func TestExampleOfMatchesTheAnchoredPattern(t *testing.T) {
	tests := []struct {
		pattern, want string
	}{
		{"/checkout/.*", "/checkout/"},
		{"/checkout/[a-z]+", "/checkout/a"},
		{"GET /(orders|cart)", "GET /orders"},
		{"/items/[0-9]{2,3}", "/items/00"},
		{"/v[12]/x?", "/v1/"},
		{".+", "x"},
		{"(?i)Pay", ""}, // any case: only the match is checked
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			re := regexp.MustCompile("^(?:" + tt.pattern + ")$")
			got, err := exampleOf(re, "unused")
			require.NoError(t, err)
			if tt.want != "" {
				assert.Equal(t, tt.want, got)
			}
			assert.True(t, re.MatchString(got), "%q does not match", got)
		})
	}
	got, err := exampleOf(nil, "GET /gameday")
	require.NoError(t, err)
	assert.Equal(t, "GET /gameday", got, "no pattern: the default")
	_, err = exampleOf(regexp.MustCompile(`^(?:a\bb)$`), "")
	assert.ErrorContains(t, err, "no example", "a pattern nothing matches is refused, not guessed")
}

func readTestTargets(t *testing.T, uris ...string) ([]target, error) {
	t.Helper()
	conf, err := resolveConfig(context.Background(), uris)
	require.NoError(t, err)
	return readTargets(conf, "")
}

func TestGamedayReadsWhereToSendAndLookFromTheConfig(t *testing.T) {
	tests := []struct {
		name                        string
		config                      string
		wantHTTP, wantGRPC, wantURL string
		wantSLOs                    int
	}{
		{"the embedded default", "", "http://127.0.0.1:4318/v1/traces", "", "http://127.0.0.1:55680", 2},
		{"a deployment listening on every interface", "testdata/gameday/obsd.yaml", "http://127.0.0.1:4318/v1/traces", "", "http://127.0.0.1:55681", 6},
		{"a gRPC-only receiver", "testdata/gameday/grpc_only.yaml", "", "127.0.0.1:14317", "http://127.0.0.1:55680", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var uris []string
			if tt.config != "" {
				uris = []string{tt.config}
			}
			ts, err := readTestTargets(t, uris...)
			require.NoError(t, err)
			require.Len(t, ts, 1)
			assert.Equal(t, tt.wantHTTP, ts[0].otlpHTTP)
			assert.Equal(t, tt.wantGRPC, ts[0].otlpGRPC)
			assert.Equal(t, tt.wantURL, ts[0].statusURL)
			assert.Len(t, ts[0].slos, tt.wantSLOs, "the files' SLOs and the discovered ones")
			assert.Equal(t, "slo", ts[0].connector.String())
		})
	}
	_, err := readTestTargets(t, "testdata/gameday/no_statuspage.yaml")
	assert.ErrorContains(t, err, "no statuspage extension")
	_, err = readTestTargets(t, "testdata/gameday/no_slo.yaml")
	assert.ErrorContains(t, err, "no traces pipeline sends OTLP spans to an slo connector")
}

func TestPlanDrill(t *testing.T) {
	ts, err := readTestTargets(t, "testdata/gameday/obsd.yaml")
	require.NoError(t, err)
	def, err := readTestTargets(t)
	require.NoError(t, err)
	tests := []struct {
		name, slo, service string
		targets            []target
		check              func(t *testing.T, p *drillPlan)
		wantErr            string
	}{
		{name: "the embedded default drills on the discovered availability SLO", targets: def, check: func(t *testing.T, p *drillPlan) {
			assert.Equal(t, "availability", p.slo.Name)
			assert.Equal(t, "gameday", p.service)
			assert.Equal(t, drillSpan{service: "gameday", name: "GET /gameday", route: "/gameday", failed: true, httpStatus: 500, duration: 5 * time.Millisecond}, p.failing)
			assert.Equal(t, 20, p.failN)
			assert.Equal(t, time.Hour, p.pair.Long)
			assert.InDelta(t, 14.4, p.pair.Factor, 1e-9)
			assert.InDelta(t, 1000, p.burn, 1e-6)
			assert.Equal(t, 15*time.Second, p.fireWithin, "one evaluation (10s) and slack")
			// 20 bad must fall under 0.9 × 6 (the 6h/30m pair) × 0.001: 3704
			// events; 5% more for safety.
			assert.Equal(t, 3869, p.recoverN)
			assert.Empty(t, p.receivers, "the default config has no alerting destination")
			assert.Equal(t, "true", p.labels[contract.LabelGameday])
			assert.Equal(t, "gameday", p.labels["service"])
			assert.Equal(t, "page", p.labels["severity"])
		}},
		{name: "an explicit SLO: its service and route, its page 'for' in the wait", slo: "checkout-availability", targets: ts, check: func(t *testing.T, p *drillPlan) {
			assert.Equal(t, "checkout", p.service)
			assert.Equal(t, "/checkout/a", p.failing.route)
			assert.Equal(t, 30*time.Second+time.Minute+15*time.Second, p.fireWithin, "an evaluation, 'for' 1m and slack")
			assert.Equal(t, []string{"drills", "am"}, p.receivers, "the drill route continues to the default")
			assert.Equal(t, map[string][]string{"am": {"http://127.0.0.1:9093"}}, p.alertmanagers)
			assert.Equal(t, 12*time.Second, p.deliverWithin, "the delivery timeout and slack")
			assert.Equal(t, "https://runbooks.example/checkout", p.gd.Alerting.RunbookURL, "the drill exercises the SLO's runbook")
			assert.False(t, p.gd.Alerting.Ticket.Enabled, "a drill rehearses the page")
		}},
		{name: "a latency SLO gets slow successful spans; the page waits the shortest 'for' of its pairs", slo: "checkout-latency", targets: ts, check: func(t *testing.T, p *drillPlan) {
			assert.Equal(t, 6*time.Hour, p.pair.Long, "both pairs hold at once: the 6h/30m one fires first")
			assert.Equal(t, time.Minute, p.pageFor)
			assert.Equal(t, "GET /orders", p.failing.name)
			assert.False(t, p.failing.failed)
			assert.Equal(t, int64(200), p.failing.httpStatus)
			assert.Equal(t, 600*time.Millisecond, p.failing.duration)
			assert.Less(t, p.healthy.duration, 300*time.Millisecond)
		}},
		{name: "a discovered SLO on another service", slo: "latency", service: "cart", targets: ts, check: func(t *testing.T, p *drillPlan) {
			assert.Equal(t, "cart", p.service)
			assert.Equal(t, time.Second, p.failing.duration, "twice the 500ms threshold")
		}},
		{name: "a page that cannot fire is refused", slo: "search-availability", targets: ts,
			wantErr: "caps the burn rate at 5×, below every page factor (lowest 6×)"},
		{name: "a metric SLO is refused", slo: "api-ratio", targets: ts, wantErr: "counts metric points, not spans"},
		{name: "an unknown SLO lists the span SLOs", slo: "nope", targets: ts, wantErr: "span SLOs: checkout-availability, checkout-latency, search-availability, availability, latency"},
		{name: "several explicit span SLOs need --slo", targets: ts, wantErr: "'--slo' is required"},
		{name: "another service than an explicit SLO's is refused", slo: "checkout-availability", service: "cart", targets: ts,
			wantErr: "counts the spans of checkout, not cart"},
		{name: "a discovered SLO does not count a service with SLOs of its own", slo: "availability", service: "checkout", targets: ts,
			wantErr: "checkout has SLOs of its own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, s, err := pickSpanSLO(tt.targets, tt.slo)
			var p *drillPlan
			if err == nil {
				p, err = planDrill(tg, s, tt.service, "gd-test")
			}
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}

func TestPlanDrillRefusesADisabledGameday(t *testing.T) {
	ts, err := readTestTargets(t)
	require.NoError(t, err)
	ts[0].cfg.Gameday.Enabled = false
	tg, s, err := pickSpanSLO(ts, "")
	require.NoError(t, err)
	_, err = planDrill(tg, s, "", "gd-test")
	assert.ErrorContains(t, err, "'gameday::enabled: false'")
}

// TestGamedayDryRunSendsNothing: --dry-run prints the plan, and the OTLP
// receiver it names is never called.
func TestGamedayDryRunSendsNothing(t *testing.T) {
	cmd := newGamedayCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--dry-run", "--config", "testdata/gameday/obsd.yaml", "--slo", "checkout-availability", "--otlp", "http://127.0.0.1:1/v1/traces"})
	require.NoError(t, cmd.Execute())
	for _, want := range []string{
		"on SLO checkout-availability of service checkout",
		"20 server spans",
		"to http://127.0.0.1:1/v1/traces",
		"obsd.gameday.drill=gd-",
		`gameday="true"`,
		"route: drills, am",
		"runbook: https://runbooks.example/checkout",
		"dry run: nothing sent",
	} {
		assert.Contains(t, out.String(), want)
	}
	assert.NotContains(t, out.String(), "hop", "no hop was run")
}

func TestDrillReceiverKeepsTheDrillsNotifications(t *testing.T) {
	r, err := listenReceiver("127.0.0.1:0")
	require.NoError(t, err)
	defer r.close()
	post := func(body string) int {
		resp, err := http.Post(r.addr+"/gameday", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusBadRequest, post("not json"), "a bad payload is refused with a reason")
	msg := `{"receiver":"gameday","status":"firing","alerts":[{"status":"firing","labels":{"gameday_drill":"gd-1"}},{"status":"firing","labels":{"slo":"x"}}]}`
	assert.Equal(t, http.StatusOK, post(msg))
	n, ok := r.wait(context.Background(), "gd-1", time.Now().Add(time.Second))
	require.True(t, ok)
	assert.Equal(t, notification{drill: "gd-1", receiver: "gameday", status: "firing"}, n)
	_, ok = r.wait(context.Background(), "gd-2", time.Now().Add(50*time.Millisecond))
	assert.False(t, ok, "another drill's page is not this one's")
}

func TestGamedayWaitsForTheOTLPAddressItSendsTo(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    target
		want string
	}{
		{"http with port", target{otlpHTTP: "http://127.0.0.1:4318/v1/traces"}, "127.0.0.1:4318"},
		{"https without port", target{otlpHTTP: "https://obsd.example/v1/traces"}, "obsd.example:443"},
		{"http without port", target{otlpHTTP: "http://[::1]/v1/traces"}, "[::1]:80"},
		{"grpc only", target{otlpGRPC: "127.0.0.1:4317"}, "127.0.0.1:4317"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.t.otlpAddr(); got != tc.want {
				t.Errorf("otlpAddr() = %q, want %q", got, tc.want)
			}
		})
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if !accepts(addr) {
		t.Errorf("accepts(%s) = false for a listening socket", addr)
	}
	_ = l.Close()
	if accepts(addr) {
		t.Errorf("accepts(%s) = true after the listener closed", addr)
	}
}
