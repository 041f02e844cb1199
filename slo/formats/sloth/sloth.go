// Package sloth reads Sloth's SLO files into the model of slo/spec: the
// "version: prometheus/v1" file and the Kubernetes CRD "apiVersion:
// sloth.slok.dev/v1, kind: PrometheusServiceLevel", one or many
// documents per file separated by "---".
//
// Files are decoded as Sloth decodes them (YAML through JSON: keys match
// case-insensitively, unknown keys are ignored), and every ignored key is
// a warning naming the key it most likely meant. Event SLIs whose queries
// have a supported shape (SupportedShapes) or Sloth's latency shape on a
// classic histogram (COUNT - BUCKET{le} over COUNT), and raw error ratio
// queries of the form "BAD / TOTAL" of supported shapes, are evaluated
// in-process;
// other raw or event queries are export-only (spec.PromQLRatio): `obsd
// slo rules` writes them as Sloth would. SLI plugins are Go code that
// Sloth runs and are refused with their id; SLO plugins (slo_plugins,
// plugins) change how Sloth writes rules and are ignored with a warning.
package sloth

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	yaml "go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/slo/formats/internal/lenient"
	raw "github.com/obsd-dev/obsd/slo/formats/sloth/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Version is the version key of Sloth's prometheus/v1 format.
const Version = "prometheus/v1"

// The apiVersion and kinds of Sloth's Kubernetes CRDs.
const (
	APIVersion      = "sloth.slok.dev/v1"
	KindServiceLvl  = "PrometheusServiceLevel"
	kindAlertWindow = "AlertWindows"
)

// SupportedShapes names the query shapes evaluated in-process.
const SupportedShapes = `sum(rate(SELECTOR[{{.window}}])), sum(increase(SELECTOR[{{.window}}])) and their "sum by (...)" forms`

// fieldNames are the keys of one of Sloth's two formats, for messages.
type fieldNames struct {
	errorQuery, totalQuery, errorRatioQuery, sloPlugins string
}

var (
	fileNames = fieldNames{"sli.events.error_query", "sli.events.total_query", "sli.raw.error_ratio_query", "slo_plugins"}
	crdNames  = fieldNames{"sli.events.errorQuery", "sli.events.totalQuery", "sli.raw.errorRatioQuery", "spec.sloPlugins"}
)

// Parse reads a Sloth file (every document); file names it in errors.
// Warnings are dropped: use Read to get them.
func Parse(file string, data []byte) ([]*spec.SLO, error) {
	slos, _, err := Read(file, data)
	return slos, err
}

// Read reads every document of a Sloth file and returns its SLOs, the
// warnings (*spec.Warning: keys Sloth ignores, SLO plugins obsd does not
// apply) and every problem at once, each with the file, SLO name and
// field. An SLO's name becomes "<service>-<name>" (Sloth's sloth_id) and
// its period is spec.DefaultPeriod (Sloth's default of 30d).
func Read(file string, data []byte) ([]*spec.SLO, []error, error) {
	return lenient.ReadFile(file, data, readDoc)
}

func readDoc(where string, n *yaml.Node, e *spec.Problems) []*spec.SLO {
	head := lenient.ReadHead(n)
	var f raw.File
	var ign []lenient.Ignored
	var err error
	names, sloPath := fileNames, []string{"slos"}
	switch {
	case head.Version == Version:
		ign, err = lenient.Decode(n, &f)
	case head.APIVersion == APIVersion && head.Kind == KindServiceLvl:
		var c raw.CRD
		ign, err = lenient.Decode(n, &c)
		f, names, sloPath = c.File(), crdNames, []string{"spec", "slos"}
	case head.APIVersion == APIVersion && head.Kind == kindAlertWindow:
		e.Add(fmt.Errorf("%s: kind %s (Sloth's alert window settings for `sloth generate --slo-period-windows`) declares no SLO; "+
			"obsd scales its default windows to each SLO's period: set custom windows under 'alerting.page.windows' of an obsd/v1 SLO", where, kindAlertWindow))
		return nil
	case head.APIVersion == APIVersion:
		e.Add(fmt.Errorf("%s: 'kind' must be %q, got %q", where, KindServiceLvl, head.Kind))
		return nil
	default:
		e.Add(fmt.Errorf("%s: 'version' must be %q (or 'apiVersion' %q with 'kind' %s), got version %q", where, Version, APIVersion, KindServiceLvl, head.Version))
		return nil
	}
	if err != nil {
		e.Add(fmt.Errorf("%s: invalid slo file: %w", where, err))
		return nil
	}
	warnIgnored(f, ign, sloPath, e)
	e.SLO = ""
	warnPlugins(names.sloPlugins, f.SLOPlugins, e)
	var out []*spec.SLO
	for _, r := range f.SLOs {
		out = append(out, convertSLO(e.File, f, r, names, e))
	}
	return out
}

// warnIgnored turns the keys the decoder ignored into warnings on the
// SLO (or the file) they belong to.
func warnIgnored(f raw.File, ign []lenient.Ignored, sloPath []string, e *spec.Problems) {
	for _, g := range ign {
		e.SLO = ""
		path := g.Path
		if len(path) > len(sloPath) && slices.Equal(path[:len(sloPath)], sloPath) {
			if i, err := strconv.Atoi(path[len(sloPath)]); err == nil && i < len(f.SLOs) {
				e.SLO = f.Service + "-" + f.SLOs[i].Name
				path = path[len(sloPath)+1:]
			}
		}
		key := strings.Join(append(slices.Clone(path), g.Key), ".")
		if g.Suggest != "" {
			e.Warnf(key, "is ignored (Sloth ignores it too): did you mean '%s'?", strings.Join(append(slices.Clone(path), g.Suggest), "."))
		} else {
			e.Warnf(key, "is ignored (Sloth ignores it too): it is not a field of Sloth's spec")
		}
	}
}

// warnPlugins warns about SLO plugins: they change the rules Sloth
// writes, while obsd computes the SLO itself and writes its own rules.
func warnPlugins(field string, p raw.SLOPlugins, e *spec.Problems) {
	for i, c := range p.Chain {
		e.Warnf(fmt.Sprintf("%s.chain[%d]", field, i), "SLO plugin %q is not applied: it changes the rules Sloth generates, "+
			"while obsd evaluates the SLO itself (and `obsd slo rules` writes its own rules); remove it once the SLO has moved to obsd", c.ID)
	}
}

// convertSLO validates one Sloth SLO.
func convertSLO(file string, f raw.File, r raw.SLO, names fieldNames, e *spec.Problems) *spec.SLO {
	e.SLO = f.Service + "-" + r.Name
	spec.CheckCommon(r.Name, f.Service, r.Objective, e)
	warnPlugins("plugins", r.Plugins, e)
	s := &spec.SLO{Name: e.SLO, Service: f.Service, Description: r.Description, Objective: spec.PercentToRatio(r.Objective),
		Period: spec.DefaultPeriod, Labels: mergeLabels(f.Labels, r.Labels), Source: file}
	spec.CheckLabels(s.Labels, "labels", e)
	n := 0
	for _, set := range []bool{r.SLI.Raw != nil, r.SLI.Events != nil, r.SLI.Plugin != nil} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		e.Addf("sli", "must have exactly one of 'events', 'raw' or 'plugin', got %d", n)
	case r.SLI.Plugin != nil:
		e.Addf("sli.plugin", "%q is a Sloth SLI plugin: Go code that Sloth runs to write the query, which obsd cannot run; "+
			"replace it with 'sli.events' (or 'sli.raw') holding the queries the plugin writes (see them with `sloth generate`)", r.SLI.Plugin.ID)
	case r.SLI.Raw != nil:
		convertRaw(r.SLI.Raw.ErrorRatioQuery, names, s, e)
	default:
		convertEvents(r.SLI.Events.ErrorQuery, r.SLI.Events.TotalQuery, names, s, e)
	}
	page, ticket := spec.DefaultWindowPairs(s.Period)
	a := r.Alerting
	s.Alerting = spec.Alerting{Name: a.Name, Labels: a.Labels, Annotations: a.Annotations, MinEvents: spec.DefaultMinEvents,
		Page:   spec.Severity{Enabled: !a.PageAlert.Disable, Windows: page, Labels: a.PageAlert.Labels, Annotations: a.PageAlert.Annotations},
		Ticket: spec.Severity{Enabled: !a.TicketAlert.Disable, Windows: ticket, Labels: a.TicketAlert.Labels, Annotations: a.TicketAlert.Annotations}}
	if s.Alerting.Name == "" {
		s.Alerting.Name = s.Name
	}
	for _, m := range []map[string]string{a.Annotations, a.PageAlert.Annotations} {
		if u := m["runbook_url"]; u != "" && s.Alerting.RunbookURL == "" {
			s.Alerting.RunbookURL = u
		}
	}
	spec.CheckLabels(a.Labels, "alerting.labels", e)
	return s
}

// convertEvents reads sli.events: in-process when both queries have a
// supported shape, export-only otherwise.
func convertEvents(errorQuery, totalQuery string, names fieldNames, s *spec.SLO, e *spec.Problems) {
	bad, badBy, why1, ok1 := slothQuery(errorQuery, names.errorQuery, e)
	total, totalBy, why2, ok2 := slothQuery(totalQuery, names.totalQuery, e)
	if !ok1 || !ok2 {
		return
	}
	why := strings.Trim(why1+"; "+why2, "; ")
	if why == "" && !slices.Equal(badBy, totalBy) {
		why = fmt.Sprintf("error_query groups by %v but total_query by %v", badBy, totalBy)
	}
	if why != "" {
		if l := latencyShape(errorQuery, totalQuery); l != nil {
			s.SLI.Latency = l
			return
		}
		// Sloth's recording rule for events: (error_query) / (total_query).
		s.SLI.PromQL = &spec.PromQLRatio{ErrorRatio: "(" + strings.TrimSpace(errorQuery) + ")\n/\n(" + strings.TrimSpace(totalQuery) + ")",
			Field: "sli.events", Reason: why}
		return
	}
	s.SLI.Metric = &spec.MetricRatio{Bad: bad, Total: total, GroupBy: totalBy}
}

// convertRaw reads sli.raw.error_ratio_query: "BAD / TOTAL" of supported
// shapes is evaluated in-process, anything else is export-only.
func convertRaw(q string, names fieldNames, s *spec.SLO, e *spec.Problems) {
	field := names.errorRatioQuery
	if strings.TrimSpace(q) == "" {
		e.Addf(field, "is required")
		return
	}
	expr, err := spec.ParseQuery(q)
	if err != nil {
		e.Addf(field, "is not valid PromQL: %v", err)
		return
	}
	if b, ok := expr.(*parser.BinaryExpr); ok && b.Op == parser.DIV && b.VectorMatching != nil && b.VectorMatching.Card == parser.CardOneToOne &&
		len(b.VectorMatching.MatchingLabels) == 0 && !b.VectorMatching.On && !b.ReturnBool {
		bad, badBy, why1 := shape(spec.Unparen(b.LHS), field)
		total, totalBy, why2 := shape(spec.Unparen(b.RHS), field)
		if why1 == "" && why2 == "" && slices.Equal(badBy, totalBy) {
			s.SLI.Metric = &spec.MetricRatio{Bad: bad, Total: total, GroupBy: totalBy}
			return
		}
	}
	s.SLI.PromQL = &spec.PromQLRatio{ErrorRatio: strings.TrimSpace(q), Field: field,
		Reason: "obsd counts events exactly only for an error ratio BAD / TOTAL where both are " + SupportedShapes +
			" of counters; rewrite it so, or keep it export-only"}
}

// latencyShape recognises Sloth's latency SLI on a classic histogram:
// error_query sum(rate(H_count{M}[w])) - sum(rate(H_bucket{M,le="X"}[w]))
// and total_query sum(rate(H_count{M}[w])), all with the same grouping:
// the events of H over the threshold X.
func latencyShape(errorQuery, totalQuery string) *spec.MetricLatency {
	ee, err1 := spec.ParseQuery(errorQuery)
	te, err2 := spec.ParseQuery(totalQuery)
	if err1 != nil || err2 != nil {
		return nil
	}
	b, ok := ee.(*parser.BinaryExpr)
	if !ok || b.Op != parser.SUB || b.ReturnBool || (b.VectorMatching != nil && (b.VectorMatching.On || len(b.VectorMatching.MatchingLabels) > 0)) {
		return nil
	}
	count, countBy, why1 := shape(spec.Unparen(b.LHS), "")
	bucket, bucketBy, why2 := shape(spec.Unparen(b.RHS), "")
	total, totalBy, why3 := shape(te, "")
	if why1+why2+why3 != "" || !slices.Equal(countBy, bucketBy) || !slices.Equal(countBy, totalBy) {
		return nil
	}
	base, ok := strings.CutSuffix(count.MetricName, "_count")
	if !ok || bucket.MetricName != base+"_bucket" || total.MetricName != count.MetricName {
		return nil
	}
	var le float64
	var rest []*labels.Matcher
	found := false
	for _, m := range bucket.Matchers {
		if m.Name != labels.BucketLabel {
			rest = append(rest, m)
			continue
		}
		v, err := strconv.ParseFloat(m.Value, 64)
		if m.Type != labels.MatchEqual || err != nil || found {
			return nil
		}
		le, found = v, true
	}
	if !found || !spec.SameMatchers(rest, count.Matchers) || !spec.SameMatchers(rest, total.Matchers) {
		return nil
	}
	return &spec.MetricLatency{Histogram: spec.Selector{Text: spec.SelectorText(base, rest), MetricName: base, Matchers: rest},
		Threshold: le, GroupBy: totalBy}
}

func mergeLabels(a, b map[string]string) map[string]string {
	if len(a)+len(b) == 0 {
		return nil
	}
	m := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// slothQuery parses one Sloth query with Prometheus' PromQL parser. ok is
// false when the query is missing or not PromQL (a problem is recorded);
// why is non-empty when it is PromQL of a shape obsd cannot evaluate.
func slothQuery(q, field string, e *spec.Problems) (sel spec.Selector, by []string, why string, ok bool) {
	if strings.TrimSpace(q) == "" {
		e.Addf(field, "is required")
		return spec.Selector{}, nil, "", false
	}
	expr, err := spec.ParseQuery(q)
	if err != nil {
		e.Addf(field, "is not valid PromQL: %v", err)
		return spec.Selector{}, nil, "", false
	}
	sel, by, why = shape(expr, field)
	return sel, by, why, true
}

// shape accepts sum [by (...)] (rate|increase(SELECTOR[w])); why says
// what else it is.
func shape(expr parser.Expr, field string) (spec.Selector, []string, string) {
	unsupported := fmt.Sprintf("'%s' has the shape %q; obsd evaluates only %s", field, expr.String(), SupportedShapes)
	agg, ok := expr.(*parser.AggregateExpr)
	if !ok || agg.Op != parser.SUM || agg.Without || agg.Param != nil {
		return spec.Selector{}, nil, unsupported
	}
	call, ok := agg.Expr.(*parser.Call)
	if !ok || (call.Func.Name != "rate" && call.Func.Name != "increase") || len(call.Args) != 1 {
		return spec.Selector{}, nil, unsupported
	}
	ms, ok := call.Args[0].(*parser.MatrixSelector)
	if !ok {
		return spec.Selector{}, nil, unsupported
	}
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok || vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return spec.Selector{}, nil, unsupported
	}
	probe := &spec.Problems{}
	sel := spec.SelectorFrom(vs.String(), vs.LabelMatchers, field, probe)
	if probe.Len() > 0 {
		return spec.Selector{}, nil, fmt.Sprintf("'%s' selects %s without naming one metric", field, vs.String())
	}
	by := slices.Clone(agg.Grouping)
	slices.Sort(by)
	return sel, by, ""
}
