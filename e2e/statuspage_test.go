package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// screenshots, when set, is a directory the status page test copies its
// screenshots into (docs/img when refreshing the README's pictures):
// go test ./e2e -run TestStatusPage -screenshots $PWD/docs/img
var screenshots = flag.String("screenshots", "", "copy the status page screenshots into this directory")

// statusSLOFile: checkout pages on a burst of errors; search has no alert
// (so it never fires) but spends more budget, so budget order alone would
// list it first; api stays healthy.
const statusSLOFile = `version: obsd/v1
slos:
  - name: checkout-availability
    service: checkout
    objective: 99
    period: 1h
    labels: {team: payments}
    sli:
      spans:
        bad: {status_error: true, http_5xx: true}
    alerting:
      runbook_url: https://runbooks.example/checkout
      min_events: 5
      page:
        windows:
          - {long: 5m, short: 2m, burn_rate: 2}
      ticket:
        enabled: false
  - name: search-availability
    service: search
    objective: 99.9
    period: 1h
    sli:
      spans:
        bad: {status_error: true, http_5xx: true}
    alerting:
      runbook_url: https://runbooks.example/search
      page:
        enabled: false
      ticket:
        enabled: false
  - name: api-availability
    service: api
    objective: 99
    period: 1h
    sli:
      spans:
        bad: {status_error: true, http_5xx: true}
    alerting:
      runbook_url: https://runbooks.example/api
`

// statusPageConfig adds the statuspage extension on port to a base config.
func statusPageConfig(cfg harness.Config, port int) harness.Config {
	cfg.YAML = strings.Replace(cfg.YAML, "extensions:\n  health_check:", fmt.Sprintf(`extensions:
  statuspage:
    endpoint: 127.0.0.1:%d
    refresh: 2s
    grafana_url: https://grafana.example
  health_check:`, port), 1)
	cfg.YAML = strings.Replace(cfg.YAML, "extensions: [health_check]", "extensions: [health_check, statuspage]", 1)
	return cfg
}

// TestStatusPageInABrowser runs obsd with three SLOs, makes one fire, and
// drives Debian's chromium through the pages: the firing SLO is listed
// first with its runbook link, its detail page opens with the charts and
// the alert delivered to the webhook, and every page renders.
func TestStatusPageInABrowser(t *testing.T) {
	base := startStatusPageObsd(t)
	ctx := browser(t)
	shots := map[string][]byte{
		"status-slos.png": checkListPage(t, ctx, base),
		// The detail page, opened from the list by a click.
		"status-slo-detail.png": checkDetailPage(t, ctx),
		"status-pipeline.png":   checkPipelinePage(t, ctx, base),
	}
	for name, data := range shots {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		checkPNG(t, p)
		if *screenshots != "" {
			if err := os.WriteFile(filepath.Join(*screenshots, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// startStatusPageObsd starts obsd with the SLOs of statusSLOFile, alerting
// to a webhook and the status page, feeds it traffic until checkout fires
// and the webhook got the page, and returns the page's base URL.
func startStatusPageObsd(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(statusSLOFile), 0o600); err != nil {
		t.Fatal(err)
	}
	hook := newWebhookReceiver(t)
	s := sink.NewOTLP(t)
	p := newPorts(t)
	pagePort := harness.FreePort(t)
	alerting := fmt.Sprintf(`    alerting:
      route:
        receiver: oncall
      destinations:
        oncall:
          webhook:
            url: %s
`, hook.URL)
	pipelines := `
    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [slo, otlp_grpc]
    metrics/slo:
      receivers: [slo]
      exporters: [otlp_grpc]`
	obsd := harness.StartInDir(t, dir, statusPageConfig(baseConfig(p, s, sloConnectorConfig(alerting), pipelines), pagePort))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("obsd output:\n%s", obsd.Output())
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", pagePort)

	sendServerSpans(t, p, "search", 50, false)
	sendServerSpans(t, p, "search", 50, true)
	sendServerSpans(t, p, "api", 50, false)
	// Good traffic first, then errors, so the charts show the change: the
	// history keeps one point per period/360 (10s for a 1h period).
	sendServerSpans(t, p, "checkout", 60, false)
	harness.Eventually(t, 30*time.Second, func() bool {
		n, err := historyLen(base, "checkout-availability")
		return err == nil && n >= 3
	}, "the checkout history never held three points")
	sendServerSpans(t, p, "checkout", 40, true)
	harness.Eventually(t, 30*time.Second, func() bool {
		slos, err := apiSLOs(base)
		return err == nil && len(slos) == 3 && slos[0].State == "firing"
	}, "the API never listed three SLOs with one firing")
	harness.Eventually(t, 30*time.Second, func() bool { return len(hook.received()) > 0 },
		"the webhook never got the page")
	return base
}

// checkListPage: the firing SLO first, its state as text, its runbook
// link, and a refresh that swaps the content without reloading the page.
func checkListPage(t *testing.T, ctx context.Context, base string) []byte {
	t.Helper()
	run(t, ctx, chromedp.Navigate(base+"/"))
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("table.slos tbody tr")))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__obsdMarker = 1`))
	first := evaluate[string](t, ctx, `document.querySelector("table.slos tbody tr th a").textContent`)
	if first != "checkout-availability" {
		t.Fatalf("the first SLO listed is %q, want the firing checkout-availability", first)
	}
	state := evaluate[string](t, ctx, `document.querySelector("table.slos tbody tr .state").textContent`)
	if state != "FIRING" {
		t.Errorf("the first row's state reads %q, want FIRING as text", state)
	}
	runbook := evaluate[string](t, ctx, `document.querySelector("table.slos tbody tr a.runbook").href`)
	if runbook != "https://runbooks.example/checkout" {
		t.Errorf("the first row's runbook link is %q", runbook)
	}
	before := evaluate[string](t, ctx, `document.querySelector(".updated").textContent`)
	harness.Eventually(t, 20*time.Second, func() bool {
		now, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".updated").textContent`))
		return err == nil && now != before
	}, "the list never refreshed itself")
	if marker := evaluate[int](t, ctx, `window.__obsdMarker || 0`); marker != 1 {
		t.Errorf("the page reloaded instead of refreshing in place")
	}
	return screenshot(t, ctx)
}

// checkDetailPage clicks the first SLO of the list and checks its page: two
// charts and the alert history with the page delivered to oncall.
func checkDetailPage(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	run(t, ctx, chromedp.Click(chromedp.CSS("table.slos tbody tr th a")))
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	if loc := evaluate[string](t, ctx, `document.location.pathname`); loc != "/slo/checkout-availability" {
		t.Fatalf("the link opened %q", loc)
	}
	if n := evaluate[int](t, ctx, `document.querySelectorAll("svg.chart").length`); n != 2 {
		t.Errorf("the detail page has %d charts, want the SLI and burn-rate charts", n)
	}
	history := evaluate[string](t, ctx, `document.querySelector("table.alerts tbody").textContent`)
	if !strings.Contains(history, "FIRING") || !strings.Contains(history, "oncall") {
		t.Errorf("the alert history does not show the page firing, delivered to oncall: %q", history)
	}
	return screenshot(t, ctx)
}

// checkPipelinePage checks the pipeline page draws the running pipelines.
func checkPipelinePage(t *testing.T, ctx context.Context, base string) []byte {
	t.Helper()
	run(t, ctx, chromedp.Navigate(base+"/pipeline"))
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("ol.flow")))
	text := evaluate[string](t, ctx, `document.querySelector("main").textContent`)
	for _, want := range []string{"otlp", "memory_limiter", "connector to metrics/slo", "oncall"} {
		if !strings.Contains(text, want) {
			t.Errorf("the pipeline page does not show %q", want)
		}
	}
	return screenshot(t, ctx)
}

type apiSLO struct {
	Name, State string
}

func apiSLOs(base string) ([]apiSLO, error) {
	resp, err := http.Get(base + "/api/v1/slos")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct{ SLOs []apiSLO }
	err = json.NewDecoder(resp.Body).Decode(&body)
	return body.SLOs, err
}

// historyLen returns the number of history points of an SLO's first
// instance.
func historyLen(base, name string) (int, error) {
	resp, err := http.Get(base + "/api/v1/slos/" + name)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Instances []struct{ History []json.RawMessage }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Instances) == 0 {
		return 0, fmt.Errorf("no instance of %s: %v", name, err)
	}
	return len(body.Instances[0].History), nil
}

// browser starts headless chromium with a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

func evaluate[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[T](js))
}

func screenshot(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	return run(t, ctx, chromedp.FullScreenshot(100))
}

// checkPNG fails unless path is a PNG with more than a few colours (a
// blank or failed render has one or two).
func checkPNG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	if n := colours(img, 64); n < 64 {
		t.Errorf("%s has only %d distinct colours: blank?", path, n)
	}
}

// colours counts distinct colours, stopping at limit.
func colours(img image.Image, limit int) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// TestStatusPageFirstRunInABrowser is the first run in the browser: obsd
// with no flags, the status page explains that SLOs are discovered from
// spans; a burst of failing spans of a new service, demo, makes its
// discovered SLOs appear in place (no reload), the availability SLO first,
// firing, with its burn rates.
func TestStatusPageFirstRunInABrowser(t *testing.T) {
	obsd := harness.StartDefault(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("obsd output:\n%s", obsd.Output())
		}
	})
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(defaultStatusPage+"/"))
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("main")))
	empty := evaluate[string](t, ctx, `document.querySelector("main").textContent`)
	for _, want := range []string{"No SLO has been evaluated yet", "discover", "server or consumer spans"} {
		if !strings.Contains(empty, want) {
			t.Errorf("the first-run page does not say %q: %q", want, empty)
		}
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__obsdMarker = 1`))

	sendServerSpans(t, defaultPorts, "demo", 10, false)
	sendServerSpans(t, defaultPorts, "demo", 30, true)
	// Rows are picked by demo's service: anything else on this machine
	// that sends to the default OTLP ports gets discovered SLOs too.
	const demoRows = `[...document.querySelectorAll("table.slos tbody tr")].filter(r => r.querySelector("th").textContent.includes("service=demo"))`
	harness.Eventually(t, 40*time.Second, func() bool {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](demoRows+`.length`))
		return err == nil && n == 2
	}, "the page never listed demo's two discovered SLOs")
	if marker := evaluate[int](t, ctx, `window.__obsdMarker || 0`); marker != 1 {
		t.Errorf("the page reloaded instead of refreshing in place")
	}
	first := evaluate[string](t, ctx, demoRows+`[0].querySelector("th").textContent`)
	if !strings.Contains(first, "availability") {
		t.Errorf("demo's first row is %q, want its availability SLO (the burning one first)", first)
	}
	if state := evaluate[string](t, ctx, demoRows+`[0].querySelector(".state").textContent`); state != "FIRING" {
		t.Errorf("demo's availability row's state reads %q, want FIRING", state)
	}
	row := evaluate[string](t, ctx, demoRows+`[0].textContent`)
	if !strings.Contains(row, "750×") {
		t.Errorf("demo's availability row does not show the 750× burn of 30 failures in 40 spans at 99.9%%: %q", row)
	}
	alerts := evaluate[string](t, ctx, `document.querySelector("table.alerts tbody").textContent`)
	if !strings.Contains(alerts, "availability") || !strings.Contains(alerts, "FIRING") {
		t.Errorf("the recent alerts do not show the page firing: %q", alerts)
	}
	shot := screenshot(t, ctx)
	p := filepath.Join(t.TempDir(), "status-first-run.png")
	if err := os.WriteFile(p, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p)
	if *screenshots != "" {
		if err := os.WriteFile(filepath.Join(*screenshots, "status-first-run.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
