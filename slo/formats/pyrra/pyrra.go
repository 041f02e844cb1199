// Package pyrra reads Pyrra's Kubernetes resource "apiVersion:
// pyrra.dev/v1alpha1, kind: ServiceLevelObjective" (one or many per
// file, separated by "---") into the model of slo/spec, following the
// schema Pyrra publishes (its CRD and kubernetes/api/v1alpha1 types).
//
// Ratio indicators and latency indicators on classic histograms are
// evaluated in-process; latencyNative (native histograms) and bool_gauge
// (0/1 gauges such as probe_success) are export-only (spec.PromQLRatio):
// `obsd slo rules` writes their error ratio as Pyrra computes it. Alert
// windows and 'for' durations are Pyrra's, scaled to the SLO's window.
// Documents are decoded as Kubernetes decodes them (keys match
// case-insensitively; unknown keys are ignored, each with a warning).
package pyrra

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	yaml "go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/slo/formats/internal/lenient"
	"github.com/obsd-dev/obsd/slo/spec"
)

// APIVersion and Kind of Pyrra's resource.
const (
	APIVersion = "pyrra.dev/v1alpha1"
	Kind       = "ServiceLevelObjective"
)

// LabelPrefix marks the metadata labels Pyrra copies onto its rules
// (without the prefix); obsd makes them the SLO's labels.
const LabelPrefix = "pyrra.dev/"

// Parse reads a Pyrra file; warnings are dropped (use Read).
func Parse(file string, data []byte) ([]*spec.SLO, error) {
	slos, _, err := Read(file, data)
	return slos, err
}

// Read reads every document of a Pyrra file and returns its SLOs, the
// warnings (*spec.Warning) and every problem at once. An SLO is named
// by metadata.name and belongs to the service metadata.namespace
// ("default" when empty, as in Kubernetes).
func Read(file string, data []byte) ([]*spec.SLO, []error, error) {
	return lenient.ReadFile(file, data, readDoc)
}

func readDoc(where string, n *yaml.Node, e *spec.Problems) []*spec.SLO {
	var o objective
	ign, err := lenient.Decode(n, &o)
	if err != nil {
		e.Add(fmt.Errorf("%s: invalid slo file: %w", where, err))
		return nil
	}
	if o.APIVersion != APIVersion || o.Kind != Kind {
		e.Add(fmt.Errorf("%s: must be 'apiVersion' %q 'kind' %q, got %q %q", where, APIVersion, Kind, o.APIVersion, o.Kind))
		return nil
	}
	e.SLO = o.Metadata.Name
	for _, g := range ign {
		key := strings.Join(append(slices.Clone(g.Path), g.Key), ".")
		if g.Suggest != "" {
			e.Warnf(key, "is ignored (Kubernetes ignores it too): did you mean '%s'?", strings.Join(append(slices.Clone(g.Path), g.Suggest), "."))
		} else {
			e.Warnf(key, "is ignored (Kubernetes ignores it too): it is not a field of Pyrra's ServiceLevelObjective")
		}
	}
	if s := convert(e.File, o, e); s != nil {
		return []*spec.SLO{s}
	}
	return nil
}

func convert(file string, o objective, e *spec.Problems) *spec.SLO {
	service := o.Metadata.Namespace
	if service == "" {
		service = "default"
	}
	target, err := strconv.ParseFloat(strings.TrimSpace(o.Spec.Target), 64)
	if err != nil {
		e.Addf("spec.target", "must be a percentage as a string (e.g. \"99.5\"), got %q", o.Spec.Target)
		target = 0
	}
	spec.CheckCommon(o.Metadata.Name, service, target, e)
	s := &spec.SLO{Name: o.Metadata.Name, Service: service, Description: o.Spec.Description, Objective: spec.PercentToRatio(target), Source: file}
	for k, v := range o.Metadata.Labels {
		if name, ok := strings.CutPrefix(k, LabelPrefix); ok {
			if s.Labels == nil {
				s.Labels = map[string]string{}
			}
			s.Labels[name] = v
		}
	}
	spec.CheckLabels(s.Labels, "metadata.labels", e)
	w, err := model.ParseDuration(o.Spec.Window)
	switch {
	case err != nil:
		e.Addf("spec.window", "must be a Prometheus duration such as 28d or 4w, got %q", o.Spec.Window)
	case time.Duration(w) < 24*time.Hour:
		e.Addf("spec.window", "must be at least 1d, got %s", w)
	}
	s.Period = time.Duration(w)
	convertIndicator(o.Spec.Indicator, s, e)
	s.Alerting = alerting(o.Spec.Alerting, s)
	switch strings.ToLower(o.Spec.Alerting.BurnRateType) {
	case "", "static":
	case "dynamic":
		e.Warnf("spec.alerting.burnRateType", "dynamic is not supported: obsd alerts with Pyrra's static burn rates (the SLO itself is evaluated unchanged); "+
			"remove the key, or set it to static, to acknowledge")
	default:
		e.Addf("spec.alerting.burnRateType", "must be static or dynamic, got %q", o.Spec.Alerting.BurnRateType)
	}
	return s
}

// alerting builds Pyrra's multi-window alerts: critical (page) 1h/5m×14
// for 2m and 6h/30m×7 for 15m, warning (ticket) 1d/2h×2 for 1h and
// 4d/6h×1 for 3h for a 28d window, every duration scaled to the window
// (Pyrra's Windows). Each pair keeps its own 'for', as in Pyrra's rules;
// a severity's For is its shortest.
func alerting(a alertingSpec, s *spec.SLO) spec.Alerting {
	w := s.Period
	round := func(d time.Duration) time.Duration { return d.Round(time.Minute) }
	// pair takes the divisors of the SLO window that give each duration.
	pair := func(long, short, forDiv time.Duration, f float64) spec.WindowPair {
		return spec.WindowPair{Long: round(w / long), Short: round(w / short), Factor: f, For: round(w / forDiv)}
	}
	on := (a.Disabled == nil || !*a.Disabled) && (a.Burnrates == nil || *a.Burnrates)
	page := []spec.WindowPair{pair(28*24, 28*24*12, 28*24*30, 14), pair(28*4, 28*24*2, 28*24*4, 7)}
	ticket := []spec.WindowPair{pair(28, 28*12, 28*24, 2), pair(7, 28*4, 28*8, 1)}
	out := spec.Alerting{Name: a.Name, MinEvents: spec.DefaultMinEvents,
		Page:   spec.Severity{Enabled: on, For: page[0].For, Windows: page},
		Ticket: spec.Severity{Enabled: on, For: ticket[0].For, Windows: ticket}}
	if out.Name == "" {
		out.Name = "ErrorBudgetBurn" // Pyrra's default alert name
	}
	return out
}

// convertIndicator reads exactly one indicator.
func convertIndicator(ind indicator, s *spec.SLO, e *spec.Problems) {
	bg := ind.BoolGauge
	if bg == nil {
		bg = ind.BoolGaugeCamel
	}
	n := 0
	for _, set := range []bool{ind.Ratio != nil, ind.Latency != nil, ind.LatencyNative != nil, bg != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		e.Addf("spec.indicator", "must have exactly one of 'ratio', 'latency', 'latencyNative' or 'bool_gauge', got %d", n)
		return
	}
	switch {
	case ind.Ratio != nil:
		r := ind.Ratio
		bad := selector(r.Errors.Metric, "spec.indicator.ratio.errors.metric", e)
		total := selector(r.Total.Metric, "spec.indicator.ratio.total.metric", e)
		s.SLI.Metric = &spec.MetricRatio{Bad: bad, Total: total, GroupBy: sorted(r.Grouping)}
	case ind.Latency != nil:
		convertLatency(*ind.Latency, s, e)
	case ind.LatencyNative != nil:
		l := ind.LatencyNative
		sel := selector(l.Total.Metric, "spec.indicator.latencyNative.total.metric", e)
		d, err := model.ParseDuration(l.Latency)
		if err != nil || d <= 0 {
			e.Addf("spec.indicator.latencyNative.latency", "must be a positive duration such as 100ms, got %q", l.Latency)
			return
		}
		by := sumBy(l.Grouping)
		s.SLI.PromQL = &spec.PromQLRatio{Field: "spec.indicator.latencyNative",
			ErrorRatio: fmt.Sprintf("1 - histogram_fraction(0, %s, %s (rate(%s[{{.window}}])))", num(time.Duration(d).Seconds()), by, selectorText(sel)),
			Reason:     "a native histogram's threshold fraction is interpolated by Prometheus (histogram_fraction); obsd counts exact events only against a bucket boundary: use 'latency' with a classic histogram bucket to evaluate it in obsd"}
	default:
		sel := selector(bg.Metric, "spec.indicator.bool_gauge.metric", e)
		by := sumBy(bg.Grouping)
		s.SLI.PromQL = &spec.PromQLRatio{Field: "spec.indicator.bool_gauge",
			ErrorRatio: fmt.Sprintf("1 - (%s (sum_over_time(%s[{{.window}}])) / %s (count_over_time(%s[{{.window}}])))", by, selectorText(sel), by, selectorText(sel)),
			Reason:     "a 0/1 gauge is sampled, not counted: only Prometheus sees its samples; count the probes as events (a counter of probes and one of failures) to evaluate it in obsd"}
	}
}

// convertLatency maps success (a _bucket with le) and total (the _count
// of the same histogram and matchers) onto a histogram threshold.
func convertLatency(l latencyIndicator, s *spec.SLO, e *spec.Problems) {
	const f = "spec.indicator.latency"
	success := selector(l.Success.Metric, f+".success.metric", e)
	total := selector(l.Total.Metric, f+".total.metric", e)
	if success.MetricName == "" || total.MetricName == "" {
		return
	}
	var le *labels.Matcher
	var rest []*labels.Matcher
	for _, m := range success.Matchers {
		if m.Name == labels.BucketLabel {
			le = m
			continue
		}
		rest = append(rest, m)
	}
	if le == nil || le.Type != labels.MatchEqual {
		e.Addf(f+".success.metric", "must select one bucket with an le=\"...\" matcher, got %s", success.Text)
		return
	}
	threshold, err := strconv.ParseFloat(le.Value, 64)
	if err != nil {
		e.Addf(f+".success.metric", "has le=%q, not a number", le.Value)
		return
	}
	base, ok := strings.CutSuffix(success.MetricName, "_bucket")
	if !ok || total.MetricName != base+"_count" || !spec.SameMatchers(rest, total.Matchers) {
		// Pyrra's error ratio: (total - success) / total, whatever they select.
		by := sumBy(l.Grouping)
		t, sc := selectorText(total), selectorText(success)
		s.SLI.PromQL = &spec.PromQLRatio{Field: f,
			ErrorRatio: fmt.Sprintf("(%s (rate(%s[{{.window}}])) - %s (rate(%s[{{.window}}]))) / %s (rate(%s[{{.window}}]))", by, t, by, sc, by, t),
			Reason: fmt.Sprintf("success %s and total %s are not the _bucket{le} and _count of one histogram with the same matchers, so obsd cannot count its events; "+
				"make them so to evaluate it in obsd", success.Text, total.Text)}
		return
	}
	h := spec.Selector{Text: spec.SelectorText(base, rest), MetricName: base, Matchers: rest}
	s.SLI.Latency = &spec.MetricLatency{Histogram: h, Threshold: threshold, GroupBy: sorted(l.Grouping)}
}

// selector parses a Pyrra metric: a PromQL vector selector.
func selector(text, field string, e *spec.Problems) spec.Selector {
	text = strings.TrimSpace(text)
	if text == "" {
		e.Addf(field, "is required")
		return spec.Selector{}
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(text)
	if err != nil {
		e.Addf(field, "is not valid PromQL: %v", err)
		return spec.Selector{}
	}
	vs, ok := expr.(*parser.VectorSelector)
	if !ok || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		e.Addf(field, "must be a series selector such as http_requests_total{job=\"api\"} (as Pyrra requires), got %q", text)
		return spec.Selector{}
	}
	if vs.OriginalOffset != 0 {
		// Pyrra's offset makes Prometheus wait for late samples; obsd counts
		// each event as it arrives, so the same events are counted.
		e.Warnf(field, "offset %s is dropped: obsd counts events as they arrive, and its rules read the series without offset", model.Duration(vs.OriginalOffset))
		vs.OriginalOffset = 0
	}
	return spec.SelectorFrom(text, vs.LabelMatchers, field, e)
}

// selectorText writes a selector without offset, as obsd's rules use it.
func selectorText(s spec.Selector) string { return spec.SelectorText(s.MetricName, s.Matchers) }

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func sumBy(by []string) string {
	if len(by) == 0 {
		return "sum"
	}
	return "sum by (" + strings.Join(sorted(by), ", ") + ")"
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
