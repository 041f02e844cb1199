package alerting

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/obsd-dev/obsd/slo/contract"

	"github.com/prometheus/common/model"
)

// Default annotation templates.
const (
	DefaultSummaryTemplate     = `SLO {{ .SLO }} of {{ .Service }} is burning its error budget {{ humanize .BurnRateLong }}x too fast`
	DefaultDescriptionTemplate = `Burn rate {{ humanize .BurnRateLong }}x over {{ .LongWindow }} and ` +
		`{{ humanize .BurnRateShort }}x over {{ .ShortWindow }} (threshold {{ humanize .Threshold }}x). ` +
		`Objective {{ pct .Objective }}, error budget remaining {{ pct .BudgetRemaining }}, ` +
		`budget exhausted in {{ duration .TimeToExhaustion }} at the current rate. ` +
		`{{ humanize .BadEvents }} bad of {{ humanize .Events }} events over {{ .LongWindow }}.`
)

// TemplateData is what every template is executed against. The field set is
// part of the configuration contract (see README.md).
type TemplateData struct {
	AlertName, SLO, Service, Severity, State string
	// Labels are the SLO's own labels; Annotations those of the SLO spec.
	Labels, Annotations map[string]string
	// LongWindow and ShortWindow are Prometheus durations such as "1h".
	LongWindow, ShortWindow                string
	BurnRateLong, BurnRateShort, Threshold float64
	Objective, BudgetRemaining             float64
	// TimeToExhaustion is negative when the budget is not being exhausted.
	TimeToExhaustion  time.Duration
	Events, BadEvents float64
	ActiveSince, At   time.Time
}

func newTemplateData(alertName string, t *contract.Transition) TemplateData {
	return TemplateData{
		AlertName: alertName, SLO: t.SLO, Service: t.Service, Severity: t.Severity, State: t.State,
		Labels: t.Labels, Annotations: t.Annotations,
		LongWindow: model.Duration(t.LongWindow).String(), ShortWindow: model.Duration(t.ShortWindow).String(),
		BurnRateLong: t.BurnRateLong, BurnRateShort: t.BurnRateShort, Threshold: t.Threshold,
		Objective: t.Objective, BudgetRemaining: t.BudgetRemaining, TimeToExhaustion: t.TimeToExhaustion,
		Events: t.Events, BadEvents: t.BadEvents, ActiveSince: t.ActiveSince, At: t.At,
	}
}

// templateFuncs are the functions available to templates besides the
// text/template builtins.
var templateFuncs = template.FuncMap{
	"humanize":    humanize,
	"pct":         func(v float64) string { return strconv.FormatFloat(v*100, 'f', -1, 64) + "%" },
	"duration":    humanDuration,
	"queryEscape": url.QueryEscape,
	"pathEscape":  url.PathEscape,
	"lower":       strings.ToLower,
	"upper":       strings.ToUpper,
	// sloDashboardPath is the path of the SLO's generated Grafana dashboard
	// with the SLO selected ("/d/<uid>/<slug>?var-slo=<name>"): append it
	// to Grafana's base URL, as in
	// 'https://grafana.example{{ sloDashboardPath .SLO }}'.
	"sloDashboardPath": contract.DashboardPath,
}

// humanize formats v with at most 3 significant digits, e.g. 14.4, 0.00123, 12300.
func humanize(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// humanDuration formats a duration rounded to seconds, and "never" when d < 0.
func humanDuration(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	return model.Duration(d).String()
}

// compiled holds the parsed templates; a nil template yields "".
type compiled struct {
	summary, description, runbook, dashboard, generator *template.Template
}

// sampleTransition is what templates are executed against at Validate time.
var sampleTransition = contract.Transition{
	SLO: "checkout-availability", Service: "checkout",
	Labels: map[string]string{"team": "payments"}, Annotations: map[string]string{"owner": "payments"},
	Severity: contract.SeverityPage, State: contract.StateFiring, LongWindow: time.Hour, ShortWindow: 5 * time.Minute,
	BurnRateLong: 14.4, BurnRateShort: 15, Threshold: 14.4, Objective: 0.999, BudgetRemaining: 0.5,
	TimeToExhaustion: 90 * time.Minute, Events: 10000, BadEvents: 150,
	ActiveSince: time.Unix(1700000000, 0).UTC(), At: time.Unix(1700000300, 0).UTC(),
}

// compileTemplates parses every template and executes it once against a
// sample, so that errors surface as config errors, never at runtime.
func compileTemplates(c TemplatesConfig) (*compiled, error) {
	var errs []error
	parse := func(key, src string) *template.Template {
		if src == "" {
			return nil
		}
		t, err := template.New(key).Option("missingkey=zero").Funcs(templateFuncs).Parse(src)
		if err != nil {
			errs = append(errs, fmt.Errorf("'templates::%s': %w", key, err))
			return nil
		}
		if _, err := execute(t, newTemplateData(DefaultAlertName, &sampleTransition)); err != nil {
			errs = append(errs, fmt.Errorf("'templates::%s' fails on a sample transition: %w", key, err))
			return nil
		}
		return t
	}
	out := &compiled{
		summary:     parse("summary", c.Summary),
		description: parse("description", c.Description),
		runbook:     parse("runbook_url", c.RunbookURL),
		dashboard:   parse("dashboard_url", c.DashboardURL),
		generator:   parse("generator_url", c.GeneratorURL),
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// execute runs t; a nil template gives "".
func execute(t *template.Template, data TemplateData) (string, error) {
	if t == nil {
		return "", nil
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}
