package alerting

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/internal/amtest"
	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/slo/contract"
)

const exampleConfig = "alertmanager.example.yml"

// lookTool finds a tool from Debian's prometheus-alertmanager package; CI
// installs it, so its absence is a failure, not a skip.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	require.NoError(t, err, "%s comes from Debian's prometheus-alertmanager package: apt-get install -y prometheus-alertmanager", name)
	return path
}

func TestExampleConfigPassesAmtool(t *testing.T) {
	out, err := exec.Command(lookTool(t, "amtool"), "check-config", exampleConfig).CombinedOutput()
	require.NoError(t, err, "amtool check-config: %s", out)
	assert.Contains(t, string(out), "SUCCESS")
	assert.Contains(t, string(out), "1 inhibit rules")
	assert.Contains(t, string(out), "3 receivers")
}

func TestAmtoolCatchesABrokenConfig(t *testing.T) {
	data, err := os.ReadFile(exampleConfig)
	require.NoError(t, err)
	broken := filepath.Join(t.TempDir(), "broken.yml")
	require.NoError(t, os.WriteFile(broken, []byte(strings.Replace(string(data), "receiver: oncall", "receiver: nobody", 1)), 0o600))
	out, err := exec.Command(lookTool(t, "amtool"), "check-config", broken).CombinedOutput()
	require.Error(t, err, "the check must be able to fail: %s", out)
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// startAlertmanager runs the real Alertmanager on addr with the example
// config, its webhook URLs pointed at oncall and ticket.
func startAlertmanager(t *testing.T, addr, oncall, ticket string) string {
	t.Helper()
	return amtest.Start(t, addr, oncall, ticket)
}

func TestRealAlertmanagerRoutesPageToOncallAndInhibitsTicket(t *testing.T) {
	oncall, ticket := newFakeServer(t, true), newFakeServer(t, true)
	am := startAlertmanager(t, freePort(t), oncall.URL+"/oncall", ticket.URL+"/ticket")
	m := startManager(t, testConfig([]string{am}, ""), t.TempDir(), nil)
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()

	now := time.Now().UTC()
	page := firing("checkout-availability", now)
	ticketAlert := page
	ticketAlert.Severity, ticketAlert.LongWindow, ticketAlert.ShortWindow = contract.SeverityTicket, 6*time.Hour, 30*time.Minute
	m.Notify(page)

	require.Eventually(t, func() bool { return len(oncall.webhookAlerts()) > 0 }, 30*time.Second, 20*time.Millisecond,
		"the page reaches the on-call receiver")
	got := oncall.webhookAlerts()[0]
	assert.Equal(t, "firing", got.Status)
	assert.Equal(t, "page", got.Labels["severity"])
	assert.Equal(t, "payments", got.Labels["team"])
	assert.Equal(t, "https://runbooks.example/checkout/checkout-availability", got.Annotations["runbook_url"])
	assert.Equal(t, "https://grafana.example/d/checkout-availability", got.Annotations["dashboard_url"])

	// The ticket for the same SLO comes in while the page fires. Ask
	// Alertmanager itself: the ticket alert is known and inhibited.
	m.Notify(ticketAlert)
	require.Eventually(t, func() bool {
		resp, err := http.Get(am + "/api/v2/alerts?filter=" + "severity%3D%22ticket%22")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body []struct {
			Status struct {
				State       string   `json:"state"`
				InhibitedBy []string `json:"inhibitedBy"`
			} `json:"status"`
		}
		if err := decodeJSON(resp, &body); err != nil || len(body) != 1 {
			return false
		}
		return body[0].Status.State == "suppressed" && len(body[0].Status.InhibitedBy) == 1
	}, 30*time.Second, 50*time.Millisecond, "the ticket alert is inhibited by the page")
	assert.Empty(t, ticket.webhookAlerts(), "the ticket receiver gets nothing while the page fires")

	page.State, ticketAlert.State = contract.StateResolved, contract.StateResolved
	// Alertmanager keeps the later endsAt of a still-active alert, so a
	// resolve time must not lie in the future (it never does in obsd).
	page.At = time.Now().UTC()
	ticketAlert.At = page.At
	m.Notify(page, ticketAlert)
	require.Eventually(t, func() bool {
		as := oncall.webhookAlerts()
		return as[len(as)-1].Status == "resolved"
	}, 30*time.Second, 20*time.Millisecond, "the explicit resolved notification reaches on-call")
	assert.Empty(t, ticket.webhookAlerts(), "a ticket resolved before it was ever notified stays silent")
}

func decodeJSON(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return jsonDecode(resp.Body, v)
}

func TestAlertFiredWhileAlertmanagerIsDownArrivesOnceItStarts(t *testing.T) {
	oncall, ticket := newFakeServer(t, true), newFakeServer(t, true)
	addr := freePort(t)
	m := startManager(t, testConfig([]string{"http://" + addr}, ""), t.TempDir(), nil)
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()
	m.Notify(firing("checkout-availability", time.Now()))
	require.Eventually(t, func() bool {
		return m.CircuitState("am")["http://"+addr+"/api/v2/alerts"] == breakerstate.Open
	}, 30*time.Second, 10*time.Millisecond, "nobody listens yet: the breaker opens")
	assert.Equal(t, 1, m.QueueDepth("am"), "the alert waits in the outbox")

	startAlertmanager(t, addr, oncall.URL+"/oncall", ticket.URL+"/ticket")
	require.Eventually(t, func() bool { return len(oncall.webhookAlerts()) > 0 }, 30*time.Second, 20*time.Millisecond,
		"the queued page reaches on-call once Alertmanager is up")
	assert.Equal(t, "checkout-availability", oncall.webhookAlerts()[0].Labels["slo"])
	// Alertmanager may notify on-call before obsd has read its 202 and
	// emptied the outbox.
	require.Eventually(t, func() bool { return m.QueueDepth("am") == 0 }, 10*time.Second, 10*time.Millisecond,
		"the delivered page leaves the outbox")
}

// TestRealAlertmanagerSendsDrillPagesToTheGamedayReceiver: with the
// example config, a game-day page (gameday="true") reaches the gameday
// receiver and never on-call, and does not inhibit a real ticket of the
// same SLO.
func TestRealAlertmanagerSendsDrillPagesToTheGamedayReceiver(t *testing.T) {
	oncall, ticket, gameday := newFakeServer(t, true), newFakeServer(t, true), newFakeServer(t, true)
	am := amtest.StartWith(t, freePort(t), amtest.Receivers{Oncall: oncall.URL + "/oncall", Ticket: ticket.URL + "/ticket", Gameday: gameday.URL + "/gameday"})
	m := startManager(t, testConfig([]string{am}, ""), t.TempDir(), nil)
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()

	now := time.Now().UTC()
	drill := firing("checkout-availability", now)
	drill.Labels = map[string]string{contract.LabelGameday: contract.GamedayTrue, contract.LabelGamedayDrill: "gd-1"}
	realTicket := firing("checkout-availability", now)
	realTicket.Severity, realTicket.LongWindow, realTicket.ShortWindow = contract.SeverityTicket, 6*time.Hour, 30*time.Minute
	m.Notify(drill, realTicket)

	require.Eventually(t, func() bool { return len(gameday.webhookAlerts()) > 0 && len(ticket.webhookAlerts()) > 0 },
		30*time.Second, 20*time.Millisecond, "the drill reaches the gameday receiver and the real ticket its receiver")
	got := gameday.webhookAlerts()[0]
	assert.Equal(t, "gd-1", got.Labels[contract.LabelGamedayDrill])
	assert.Equal(t, "page", got.Labels["severity"])
	assert.Empty(t, oncall.webhookAlerts(), "a drill never pages on-call")
	assert.Equal(t, "ticket", ticket.webhookAlerts()[0].Labels["severity"], "the drill's page inhibits no real ticket")
}
