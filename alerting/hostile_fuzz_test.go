package alerting

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
)

// FuzzTemplate compiles any template source as a config would: it either
// compiles and runs on the sample transition, or is a config error, never a
// panic. Sources with `range` or printf widths are skipped: they can ask
// for unbounded work, which the operator (who writes the config) may, and
// the fuzzer must not.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"{{ .SLO }} burns {{ humanize .BurnRateLong }}",
		"{{ .Labels.service }} {{ humanizeDuration .TimeToExhaustion }}",
		"{{ sloDashboardPath .SLO }}",
		"{{ if gt .BudgetRemaining 0.5 }}ok{{ else }}low{{ end }}",
		"{{ define \"a\" }}{{ template \"a\" }}{{ end }}{{ template \"a\" }}",
		"{{ .Nope.Deeper }}", "{{", "}}{{ end }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1024 || strings.Contains(src, "range") || strings.Contains(src, "%") {
			return
		}
		c, err := compileTemplates(TemplatesConfig{Summary: src, Description: src})
		if err != nil {
			return
		}
		if _, err := execute(c.summary, newTemplateData(DefaultAlertName, &sampleTransition)); err != nil {
			t.Fatalf("a template that compiled fails on the sample it was checked with: %v", err)
		}
	})
}

// FuzzOutboxFile puts any bytes in a batch file of the outbox directory:
// opening the outbox either loads it or moves it aside as corrupt, never
// fails or panics.
func FuzzOutboxFile(f *testing.F) {
	good, _ := encodeBatch([]Alert{obAlert("x")})
	f.Add(good, batchName(3))
	f.Add(good[:len(good)/2], batchName(1))
	f.Add([]byte(outboxMagic+" 00000000 2\n[]"), "00000000000000000009.batch")
	f.Add([]byte("{}"), "junk.batch")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." || len(name) > 200 {
			return
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return
		}
		ob, corrupt, err := openOutbox(dir, 100)
		if err != nil {
			t.Fatalf("openOutbox on a hostile file: %v", err)
		}
		if ob.depth()+corrupt > 1 {
			t.Fatalf("one file gave depth %d and %d corrupt", ob.depth(), corrupt)
		}
	})
}

// FuzzAlertingState decodes any bytes as the alerting state file
// (alerting.json next to the SLO snapshots) and, when it decodes, loads it
// and runs the lifecycle over it: never a panic.
func FuzzAlertingState(f *testing.F) {
	l := newLifecycle(time.Minute, 3*time.Minute, 15*time.Minute)
	l.apply(obAlert("x"), contract.StateFiring, contract.SeverityPage, t0)
	good, _ := json.Marshal(l.export())
	f.Add(good)
	f.Add([]byte(`{"alerts":[{"alert":{"labels":{}},"state":"firing"}]}`))
	f.Add([]byte(`{"alerts":[{"alert":{"labels":{"a":"b"}},"state":"bogus","severity":"","lastSent":"0001-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"alerts":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var st State
		if err := json.Unmarshal(data, &st); err != nil {
			return
		}
		l := newLifecycle(time.Minute, 3*time.Minute, 15*time.Minute)
		l.load(st)
		_ = l.due(t0.Add(time.Hour))
		_ = l.firingBySeverity()
		_ = l.export()
	})
}

func TestCorruptAlertingStateNeverCrashes(t *testing.T) {
	at := t0.Add(time.Hour)
	tests := []struct {
		name string
		st   State
		// loaded is the state of each alert kept by load, by SLO label.
		loaded map[string]string
		// due is the SLOs of the alerts re-sent at t0+1h, and kept the
		// alerts still known after that (the new one applied aside).
		due, kept []string
	}{
		{
			name:   "an alert without labels is dropped",
			st:     State{Alerts: []AlertState{{State: contract.StateFiring}, {Alert: obAlert("b"), State: contract.StateFiring, LastSent: at}}},
			loaded: map[string]string{"b": contract.StateFiring},
			kept:   []string{"b"},
		},
		{
			name:   "an unknown state and severity are carried, never sent nor counted",
			st:     State{Alerts: []AlertState{{Alert: obAlert("a"), State: "bogus", Severity: "nope"}}},
			loaded: map[string]string{"a": "bogus"},
			kept:   []string{"a"},
		},
		{
			name:   "zero times everywhere: a firing alert is re-sent, a resolved one is past its retention",
			st:     State{Alerts: []AlertState{{Alert: obAlert("f"), State: contract.StateFiring}, {Alert: obAlert("z"), State: contract.StateResolved}}},
			loaded: map[string]string{"f": contract.StateFiring, "z": contract.StateResolved},
			due:    []string{"f"},
			kept:   []string{"f"},
		},
		{
			name: "the same alert twice keeps one, the last",
			st: State{Alerts: []AlertState{{Alert: obAlert("d"), State: contract.StateFiring, LastSent: at},
				{Alert: obAlert("d"), State: contract.StateResolved, ResolvedAt: at, LastSent: at}}},
			loaded: map[string]string{"d": contract.StateResolved},
			kept:   []string{"d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLifecycle(time.Minute, 3*time.Minute, 15*time.Minute)
			var due []Alert
			require.NotPanics(t, func() {
				l.load(tt.st)
				loaded := map[string]string{}
				for _, a := range l.export().Alerts {
					loaded[a.Alert.Labels["slo"]] = a.State
				}
				assert.Equal(t, tt.loaded, loaded, "alerts kept by load")
				due = l.due(at)
			})
			assert.Equal(t, tt.due, sloLabels(due), "alerts re-sent")
			var kept []Alert
			for _, a := range l.export().Alerts {
				kept = append(kept, a.Alert)
			}
			assert.Equal(t, tt.kept, sloLabels(kept), "alerts known after the resend")

			sent, ok := l.apply(obAlert("new"), contract.StateFiring, contract.SeverityPage, at)
			require.True(t, ok, "a new firing alert is sent at once")
			assert.Equal(t, "new", sent.Labels["slo"])
			assert.Len(t, l.export().Alerts, len(tt.kept)+1)
		})
	}
}

// sloLabels is the slo label of each alert, sorted; nil for none.
func sloLabels(as []Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Labels["slo"])
	}
	sort.Strings(out)
	return out
}

// FuzzRouteMatchers builds a route whose matcher is any string (the config's
// route tree) and matches a label set built from the same bytes: a matcher
// either parses or is a config error naming its key, never a panic, and
// every alert has at least the root's receiver.
func FuzzRouteMatchers(f *testing.F) {
	for _, s := range []string{`severity="page"`, `{team=~"pay.*"}`, `a!="b", c=~"d|e"`, `{`, `x=~"("`, `"quoted"="v"`, `a="\u00e9"`} {
		f.Add(s, "page")
	}
	dests := map[string]DestinationConfig{"root": {}, "child": {}}
	f.Fuzz(func(t *testing.T, matcher, value string) {
		r, err := NewRoute(RouteConfig{Receiver: "root", Routes: []RouteConfig{{Matchers: []string{matcher}, Receiver: "child"}}}, dests)
		if err != nil {
			if !strings.Contains(err.Error(), "matchers[0]") {
				t.Fatalf("a bad matcher's error must name its key: %v", err)
			}
			return
		}
		got := r.Receivers(model.LabelSet{"severity": model.LabelValue(value), "team": model.LabelValue(value)})
		if len(got) == 0 {
			t.Fatal("an alert matched no receiver at all")
		}
	})
}
