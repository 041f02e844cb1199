package alerting

import (
	"errors"
	"fmt"
	"text/template"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/common/model"

	"github.com/obsd-dev/obsd/slo/contract"
)

// Alert is one alert as obsd delivers it, independent of the wire format.
// It is what the outbox stores.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Fingerprint identifies the alert by its label set, as Alertmanager does.
func (a *Alert) Fingerprint() model.Fingerprint {
	return labelSet(a.Labels).Fingerprint()
}

// Resolved reports whether the alert has ended at now.
func (a *Alert) Resolved(now time.Time) bool {
	return !a.EndsAt.IsZero() && !a.EndsAt.After(now)
}

func labelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// Label names set by obsd on every alert; they win over SLO labels.
const (
	LabelAlertName   = "alertname"
	LabelSLO         = "slo"
	LabelService     = "service"
	LabelSeverity    = "severity"
	LabelLongWindow  = "long_window"
	LabelShortWindow = "short_window"
)

// Annotation names produced from the templates.
const (
	AnnotationSummary      = "summary"
	AnnotationDescription  = "description"
	AnnotationRunbookURL   = "runbook_url"
	AnnotationDashboardURL = "dashboard_url"
)

// builder turns transitions into alerts.
type builder struct {
	alertName string
	tmpl      *compiled
}

// alertLabels returns the identifying label set of a transition.
func (b *builder) alertLabels(t *contract.Transition) map[string]string {
	ls := make(map[string]string, len(t.Labels)+6)
	for k, v := range t.Labels {
		ls[k] = v
	}
	ls[LabelAlertName] = b.alertName
	ls[LabelSLO] = t.SLO
	ls[LabelService] = t.Service
	ls[LabelSeverity] = t.Severity
	ls[LabelLongWindow] = model.Duration(t.LongWindow).String()
	ls[LabelShortWindow] = model.Duration(t.ShortWindow).String()
	return ls
}

// build renders the alert of t. A template failing at runtime leaves its
// annotation out and is reported in the error; the alert is still usable.
func (b *builder) build(t *contract.Transition) (Alert, error) {
	data := newTemplateData(b.alertName, t)
	ann := make(map[string]string, len(t.Annotations)+4)
	for k, v := range t.Annotations {
		ann[k] = v
	}
	var errs []error
	set := func(key string, tm *template.Template) string {
		s, err := execute(tm, data)
		if err != nil {
			errs = append(errs, fmt.Errorf("template %s: %w", key, err))
			return ""
		}
		if s != "" && key != "" {
			ann[key] = s
		}
		return s
	}
	set(AnnotationSummary, b.tmpl.summary)
	set(AnnotationDescription, b.tmpl.description)
	set(AnnotationRunbookURL, b.tmpl.runbook)
	set(AnnotationDashboardURL, b.tmpl.dashboard)
	gen := set("", b.tmpl.generator)
	startsAt := t.ActiveSince
	if startsAt.IsZero() {
		startsAt = t.At
	}
	return Alert{
		Labels:       b.alertLabels(t),
		Annotations:  ann,
		StartsAt:     startsAt,
		GeneratorURL: gen,
	}, errors.Join(errs...)
}

// toPostable converts alerts to Alertmanager's API v2 wire type.
func toPostable(alerts []Alert) models.PostableAlerts {
	out := make(models.PostableAlerts, 0, len(alerts))
	for i := range alerts {
		a := &alerts[i]
		out = append(out, &models.PostableAlert{
			Annotations: models.LabelSet(a.Annotations),
			StartsAt:    strfmt.DateTime(a.StartsAt),
			EndsAt:      strfmt.DateTime(a.EndsAt),
			Alert: models.Alert{
				Labels:       models.LabelSet(a.Labels),
				GeneratorURL: strfmt.URI(a.GeneratorURL),
			},
		})
	}
	return out
}
