package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
	"github.com/obsd-dev/obsd/internal/amtest"
	"github.com/obsd-dev/obsd/slo/contract"
)

// gamedaySLOFile: a real SLO with the SRE Workbook's windows for 30 days.
const gamedaySLOFile = `version: obsd/v1
slos:
  - name: checkout-availability
    service: checkout
    objective: 99.9
    period: 30d
    labels: {team: payments}
    sli:
      spans:
        route: '/pay'
        bad: {status_error: true, http_5xx: true}
    alerting:
      runbook_url: https://runbooks.example/checkout
`

// gamedayAlerting sends everything to Alertmanager, and drills to the
// drills webhook as well.
func gamedayAlerting(amURL, hookURL string) string {
	return fmt.Sprintf(`    alerting:
      route:
        receiver: am
        routes:
          - receiver: drills
            matchers: ['gameday="true"']
            continue: true
          - receiver: am
      destinations:
        am:
          alertmanager:
            urls: [%s]
        drills:
          webhook:
            url: %s
      delivery:
        timeout: 2s
        initial_backoff: 100ms
        max_backoff: 1s
`, amURL, hookURL)
}

// realBudget reads the real SLO's budget, events and bad events.
func realBudget(t *testing.T, obsd *harness.Obsd) (budget, events, bad float64) {
	t.Helper()
	m := obsd.Metrics(t)
	sel := map[string]string{"slo": "checkout-availability", "service": "checkout"}
	return harness.Sum(m, contract.MetricBudgetRemaining, sel), harness.Sum(m, contract.MetricEvents, sel), harness.Sum(m, contract.MetricBadEvents, sel)
}

// hopLine matches one hop of the drill's report: time, verdict, hop.
var hopLine = regexp.MustCompile(`(?m)^\s+\+(\d+\.\d)s\s+(ok|FAIL|-)\s+(\S+(?: \S+)?)\s`)

// hops returns the verdict of each hop in a drill's report.
func hops(report string) map[string]string {
	out := map[string]string{}
	for _, m := range hopLine.FindAllStringSubmatch(report, -1) {
		name := strings.TrimSpace(m[3])
		out[name] = m[2]
	}
	return out
}

// TestGamedayThroughAlertmanager: `obsd gameday` against a running obsd
// whose SLO alerts go to the real Alertmanager (and drills to a webhook
// too) passes with every hop reported, its page reaches Alertmanager's
// game-day receiver (the drill's own --listen) and never on-call, and the
// real SLO's budget does not move; with Alertmanager stopped it exits
// non-zero naming the hop that failed.
func TestGamedayThroughAlertmanager(t *testing.T) {
	oncall, ticket, drills := newWebhookReceiver(t), newWebhookReceiver(t), newWebhookReceiver(t)
	listen := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	am := amtest.Run(t, fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t)), amtest.Receivers{
		Oncall: oncall.URL + "/oncall", Ticket: ticket.URL + "/ticket", Gameday: "http://" + listen + "/gameday"})

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(gamedaySLOFile), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPorts(t)
	pagePort := harness.FreePort(t)
	cfg := statusPageConfig(baseConfig(p, sink.NewOTLP(t), sloConnectorConfig(gamedayAlerting(am.URL, drills.URL)), sloPipelines), pagePort)
	obsd := harness.StartInDir(t, dir, cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("obsd output:\n%s", obsd.Output())
		}
	})

	// Real traffic: the real SLO has events and its whole budget.
	sendServerSpans(t, p, "checkout", 50, false)
	harness.Eventually(t, 20*time.Second, func() bool {
		_, events, _ := realBudget(t, obsd)
		return events == 50
	}, "the real SLO never counted the real spans")
	budget, events, bad := realBudget(t, obsd)
	if budget != 1 || bad != 0 {
		t.Fatalf("before the drill: budget %v, bad %v; want 1 and 0", budget, bad)
	}

	drill := []string{"gameday", "--config", obsd.ConfigPath, "--slo", "checkout-availability", "--listen", listen, "--receiver-wait", "20s"}
	start := time.Now()
	out, code := harness.Run(t, 3*time.Minute, drill...)
	t.Logf("drill report (%s):\n%s", time.Since(start).Round(100*time.Millisecond), out)
	if code != 0 {
		t.Fatalf("obsd gameday exited %d", code)
	}
	got := hops(out)
	for _, h := range []string{"otlp", "slo", "alert", "route", "deliver am", "deliver drills", "alertmanager", "receiver", "recover", "resolve",
		"deliver-resolved am", "deliver-resolved drills"} {
		if got[h] != "ok" {
			t.Errorf("hop %q: %q, want ok", h, got[h])
		}
	}
	if !strings.Contains(out, "passed in") || !strings.Contains(out, "first failing span to page:") {
		t.Errorf("the report does not end with the verdict and the figures")
	}
	for _, a := range oncall.received() {
		if a.Labels[contract.LabelGameday] == contract.GamedayTrue {
			t.Errorf("a drill page reached on-call: %v", a.Labels)
		}
	}
	drilled := false
	for _, a := range drills.received() {
		drilled = drilled || (a.Labels[contract.LabelGameday] == contract.GamedayTrue && a.Labels["slo"] == "checkout-availability" &&
			a.Labels["severity"] == "page" && a.Annotations["runbook_url"] == "https://runbooks.example/checkout")
	}
	if !drilled {
		t.Errorf("obsd's webhook destination never got the drill's page with its runbook: %+v", drills.received())
	}
	b2, e2, bad2 := realBudget(t, obsd)
	if b2 != budget || e2 != events || bad2 != bad {
		t.Errorf("the drill moved the real SLO: budget %v → %v, events %v → %v, bad %v → %v", budget, b2, events, e2, bad, bad2)
	}

	// Alertmanager goes away: the next drill fails and says where.
	am.Stop()
	out, code = harness.Run(t, 3*time.Minute, drill...)
	t.Logf("drill report with Alertmanager stopped:\n%s", out)
	if code == 0 {
		t.Fatal("obsd gameday exited 0 with Alertmanager stopped")
	}
	got = hops(out)
	if got["deliver am"] != "FAIL" || got["deliver drills"] != "ok" {
		t.Errorf("hops %v: want deliver am FAIL and deliver drills ok", got)
	}
	if !strings.Contains(out, `FAILED at hop "deliver am"`) || !strings.Contains(out, "connection refused") {
		t.Errorf("the report does not name the failed hop and why")
	}
	if b3, e3, bad3 := realBudget(t, obsd); b3 != budget || e3 != events || bad3 != bad {
		t.Errorf("the failed drill moved the real SLO: budget %v, events %v, bad %v", b3, e3, bad3)
	}
}

// TestGamedayStartsObsdFromAConfig: with --start, gameday runs obsd on the
// config for the drill and stops it after.
func TestGamedayStartsObsdFromAConfig(t *testing.T) {
	hook := newWebhookReceiver(t)
	dir := t.TempDir()
	p := newPorts(t)
	pagePort := harness.FreePort(t)
	alerting := fmt.Sprintf("    discover:\n    alerting:\n      route: {receiver: hook}\n      destinations:\n        hook: {webhook: {url: %s}}\n", hook.URL)
	cfg := statusPageConfig(baseConfig(p, sink.NewOTLP(t), strings.Replace(sloConnectorConfig(alerting), `    slos: ["{{DIR}}/slo.yaml"]`+"\n", "", 1), sloPipelines), pagePort)
	path := filepath.Join(dir, "obsd.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(cfg.YAML, "{{DIR}}", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := harness.Run(t, 3*time.Minute, "gameday", "--start", "--config", path, "--service", "orders")
	t.Logf("drill report:\n%s", out)
	if code != 0 {
		t.Fatalf("obsd gameday --start exited %d", code)
	}
	if !strings.Contains(out, "started obsd") || hops(out)["deliver hook"] != "ok" {
		t.Errorf("the drill did not start obsd or the page did not reach the webhook")
	}
	if len(hook.received()) == 0 || hook.received()[0].Labels["service"] != "orders" {
		t.Errorf("the webhook got %+v, want the drill's page for service orders", hook.received())
	}
}
