package openslo

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	raw "github.com/obsd-dev/obsd/slo/formats/openslo/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

// SupportedShapes names the query shapes the OpenSLO import accepts
// in a metric source's 'query' (or 'promql').
const SupportedShapes = `SELECTOR, sum(SELECTOR), sum(rate(SELECTOR[W])), sum(increase(SELECTOR[W])) and their "sum by (...)" forms`

// oslIndicator is an SLI document's mapping: exactly one field is set.
type oslIndicator struct {
	ratio   *spec.MetricRatio
	latency *spec.MetricLatency
	// threshold is a thresholdMetric's histogram selector; the SLO's
	// objective gives the threshold.
	threshold *spec.Selector
	// gauge is a thresholdMetric's query that is not a histogram
	// selector (a gauge): export-only, compared with the objective's op
	// and value by Prometheus.
	gauge string
	// promql is a raw ratio: export-only.
	promql *spec.PromQLRatio
}

// indicator maps an SLI spec; path is where the spec sits in d.
func (c *oslConv) indicator(d *oslDoc, path string, r *raw.SLISpec) *oslIndicator {
	n := len(c.errs)
	var out *oslIndicator
	switch {
	case (r.RatioMetric == nil) == (r.ThresholdMetric == nil):
		c.addf(d, path, "must have exactly one of 'ratioMetric' or 'thresholdMetric'")
	case r.RatioMetric != nil:
		out = c.ratio(d, path+".ratioMetric", r.RatioMetric)
	default:
		out = c.thresholdMetric(d, path+".thresholdMetric", r.ThresholdMetric)
	}
	if len(c.errs) > n {
		return nil
	}
	return out
}

type oslQuery struct {
	sel spec.Selector
	by  []string
	ok  bool
}

func (c *oslConv) ratio(d *oslDoc, path string, r *raw.Ratio) *oslIndicator {
	if r.Counter != nil && !*r.Counter {
		c.addf(d, path+".counter", "false (a gauge) is not supported: obsd counts the increases of monotonic counters")
	}
	if r.Raw != nil || r.RawType != "" {
		return c.rawRatio(d, path, r)
	}
	if (r.Good == nil) == (r.Bad == nil) {
		c.addf(d, path, "must have exactly one of 'good' or 'bad'")
		return nil
	}
	if r.Total == nil {
		c.addf(d, path+".total", "is required")
		return nil
	}
	total := c.query(d, path+".total", r.Total)
	if r.Bad != nil {
		bad := c.query(d, path+".bad", r.Bad)
		if !bad.ok || !total.ok {
			return nil
		}
		if !slices.Equal(bad.by, total.by) {
			c.addf(d, path, "'bad' groups by %v but 'total' by %v; they must match", bad.by, total.by)
			return nil
		}
		return &oslIndicator{ratio: &spec.MetricRatio{Bad: bad.sel, Total: total.sel, GroupBy: total.by}}
	}
	good := c.query(d, path+".good", r.Good)
	if !good.ok || !total.ok {
		return nil
	}
	if !slices.Equal(good.by, total.by) {
		c.addf(d, path, "'good' groups by %v but 'total' by %v; they must match", good.by, total.by)
		return nil
	}
	return c.fromGood(d, path+".good", good.sel, total.sel, total.by)
}

// fromGood maps good/total onto the model, which counts bad events:
// a histogram's "_bucket{le}" over its "_count" becomes a latency SLI;
// on one metric, good = total plus exactly one matcher becomes bad =
// total plus the negated matcher (exact: =/!= and =~/!~ are complements,
// also for an absent attribute).
func (c *oslConv) fromGood(d *oslDoc, path string, good, total spec.Selector, by []string) *oslIndicator {
	if base, ok := strings.CutSuffix(total.MetricName, "_count"); ok && good.MetricName == base+"_bucket" {
		var le *labels.Matcher
		rest := make([]*labels.Matcher, 0, len(good.Matchers))
		for _, m := range good.Matchers {
			if m.Name == "le" {
				le = m
				continue
			}
			rest = append(rest, m)
		}
		th, err := strconv.ParseFloat(leValue(le), 64)
		if le == nil || le.Type != labels.MatchEqual || err != nil || !(th > 0) {
			c.addf(d, path, "must select one bucket with an equality matcher on 'le' (e.g. le=\"0.3\") over the histogram's '_count'")
			return nil
		}
		if !spec.SameMatchers(rest, total.Matchers) {
			c.addf(d, path, "must have the same matchers as 'total' apart from 'le'")
			return nil
		}
		h := spec.Selector{Text: spec.SelectorText(base, total.Matchers), MetricName: base, Matchers: total.Matchers}
		return &oslIndicator{latency: &spec.MetricLatency{Histogram: h, Threshold: th, GroupBy: by}}
	}
	extra, ok := extraMatcher(good, total)
	if !ok {
		c.addf(d, path, "must select the series of 'total' plus exactly one more matcher "+
			"(obsd counts bad events = total minus good by negating that matcher), or a '_bucket{le=...}' over a histogram's '_count'; "+
			"got %q over %q; otherwise write 'bad'", good.Text, total.Text)
		return nil
	}
	neg, err := labels.NewMatcher(negate(extra.Type), extra.Name, extra.Value)
	if err != nil {
		c.addf(d, path, "cannot negate matcher %s: %v", extra, err)
		return nil
	}
	ms := append(slices.Clone(total.Matchers), neg)
	bad := spec.Selector{Text: spec.SelectorText(total.MetricName, ms), MetricName: total.MetricName, Matchers: ms}
	return &oslIndicator{ratio: &spec.MetricRatio{Bad: bad, Total: total, GroupBy: by}}
}

func leValue(m *labels.Matcher) string {
	if m == nil {
		return ""
	}
	return m.Value
}

// extraMatcher returns good's one matcher beyond total's, when good is
// total's metric with all of total's matchers and exactly one more.
func extraMatcher(good, total spec.Selector) (*labels.Matcher, bool) {
	if good.MetricName != total.MetricName || len(good.Matchers) != len(total.Matchers)+1 {
		return nil, false
	}
	var extra *labels.Matcher
	for _, m := range good.Matchers {
		if !spec.HasMatcher(total.Matchers, m) {
			if extra != nil {
				return nil, false
			}
			extra = m
		}
	}
	return extra, extra != nil
}

func negate(t labels.MatchType) labels.MatchType {
	switch t {
	case labels.MatchEqual:
		return labels.MatchNotEqual
	case labels.MatchNotEqual:
		return labels.MatchEqual
	case labels.MatchRegexp:
		return labels.MatchNotRegexp
	}
	return labels.MatchRegexp
}

// thresholdMetric maps a histogram selector; a quantile is rejected.
func (c *oslConv) thresholdMetric(d *oslDoc, path string, m *raw.Metric) *oslIndicator {
	text, ok := c.source(d, path, m)
	if !ok {
		return nil
	}
	qpath := path + ".metricSource.spec.query"
	expr, err := spec.ParseQuery(text)
	if err != nil {
		c.addf(d, qpath, "is not valid PromQL: %v", err)
		return nil
	}
	if call, ok := expr.(*parser.Call); ok && call.Func.Name == "histogram_quantile" {
		c.addf(d, qpath, "is a quantile, not a count of events: obsd's latency SLI counts each observation against the threshold; "+
			"write the histogram's selector (e.g. http_server_request_duration_seconds{job=\"api\"}) with 'op: lte' and the threshold as 'value' in the objective")
		return nil
	}
	vs, ok := expr.(*parser.VectorSelector)
	if !ok {
		// A gauge (or any value): only Prometheus sees its samples.
		return &oslIndicator{gauge: strings.TrimSpace(text)}
	}
	if !isSelector(vs) {
		c.addf(d, qpath, "must be a histogram series selector (e.g. http_server_request_duration_seconds{job=\"api\"}), got %q", text)
		return nil
	}
	sel, ok := c.selector(d, qpath, vs)
	if !ok {
		return nil
	}
	for _, m := range sel.Matchers {
		if m.Name == "le" {
			c.addf(d, qpath, "must not match 'le': the objective's 'value' is the threshold")
			return nil
		}
	}
	if base, cut := strings.CutSuffix(sel.MetricName, "_bucket"); cut {
		sel.MetricName, sel.Text = base, spec.SelectorText(base, sel.Matchers)
	}
	return &oslIndicator{threshold: &sel}
}

// query reads a ratio part's query in one of the supported shapes.
func (c *oslConv) query(d *oslDoc, path string, m *raw.Metric) oslQuery {
	text, ok := c.source(d, path, m)
	if !ok {
		return oslQuery{}
	}
	qpath := path + ".metricSource.spec.query"
	expr, err := spec.ParseQuery(text)
	if err != nil {
		c.addf(d, qpath, "is not valid PromQL: %v", err)
		return oslQuery{}
	}
	var by []string
	if agg, ok := expr.(*parser.AggregateExpr); ok && agg.Op == parser.SUM && !agg.Without && agg.Param == nil {
		by = slices.Clone(agg.Grouping)
		slices.Sort(by)
		expr = spec.Unparen(agg.Expr)
		if call, ok := expr.(*parser.Call); ok && (call.Func.Name == "rate" || call.Func.Name == "increase") && len(call.Args) == 1 {
			if ms, ok := call.Args[0].(*parser.MatrixSelector); ok {
				expr = ms.VectorSelector
			}
		}
	}
	vs, ok := expr.(*parser.VectorSelector)
	if !ok || vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		c.addf(d, qpath, "has an unsupported shape %q; supported: %s", text, SupportedShapes)
		return oslQuery{}
	}
	sel, ok := c.selector(d, qpath, vs)
	return oslQuery{sel: sel, by: by, ok: ok}
}

func (c *oslConv) selector(d *oslDoc, path string, vs *parser.VectorSelector) (spec.Selector, bool) {
	sel := spec.Selector{Text: vs.String()}
	for _, m := range vs.LabelMatchers {
		if m.Name != labels.MetricName {
			sel.Matchers = append(sel.Matchers, m)
			continue
		}
		if m.Type != labels.MatchEqual {
			c.addf(d, path, "must name its metric with an equality matcher")
			return spec.Selector{}, false
		}
		sel.MetricName = m.Value
	}
	return sel, true
}

// source checks a metricSource and returns its query text.
func (c *oslConv) source(d *oslDoc, path string, m *raw.Metric) (string, bool) {
	src := m.MetricSource
	p := path + ".metricSource"
	typ := src.Type
	if src.MetricSourceRef != "" {
		// obsd needs no connection details: with the type given inline, a
		// DataSource outside the loaded files is fine.
		ds := c.set.ref(kindDataSource, src.MetricSourceRef)
		switch {
		case ds == nil && typ == "":
			c.addf(d, p+".metricSourceRef", "names no DataSource document %q in the loaded files (load it, or set 'type' beside it)", src.MetricSourceRef)
			return "", false
		case typ == "":
			typ = ds.value.(*raw.DataSourceDoc).Spec.Type
		}
	}
	if typ != "" && !strings.EqualFold(typ, "prometheus") {
		c.addf(d, p+".type", "%q is not supported: obsd counts the metrics it receives with Prometheus-style queries (type Prometheus)", typ)
		return "", false
	}
	var text string
	n := 0
	for _, k := range sortedKeys(src.Spec) {
		if k != "query" && k != "promql" {
			c.addf(d, p+".spec."+k, "is not supported: only 'query' (or 'promql') is read")
			return "", false
		}
		s, ok := src.Spec[k].(string)
		if !ok {
			c.addf(d, p+".spec."+k, "must be a string")
			return "", false
		}
		text, n = s, n+1
	}
	if n != 1 || strings.TrimSpace(text) == "" {
		c.addf(d, p+".spec", "must have exactly one of 'query' or 'promql'")
		return "", false
	}
	return text, true
}

// rawRatio maps a precomputed ratio (rawType success or failure) onto
// an export-only error ratio: the query's value averaged over each
// window (as written when the query already has {{.window}}).
func (c *oslConv) rawRatio(d *oslDoc, path string, r *raw.Ratio) *oslIndicator {
	if r.Good != nil || r.Bad != nil || r.Total != nil {
		c.addf(d, path, "must have 'raw' or 'good'/'bad' with 'total', not both")
		return nil
	}
	if r.RawType != "success" && r.RawType != "failure" {
		c.addf(d, path+".rawType", "must be success or failure with 'raw', got %q", r.RawType)
		return nil
	}
	if r.Raw == nil {
		c.addf(d, path+".raw", "is required with 'rawType'")
		return nil
	}
	text, ok := c.source(d, path+".raw", r.Raw)
	if !ok {
		return nil
	}
	text = strings.TrimSpace(text)
	expr, err := spec.ParseQuery(text)
	if err != nil {
		c.addf(d, path+".raw.metricSource.spec.query", "is not valid PromQL: %v", err)
		return nil
	}
	ratio := overWindow(text, expr)
	if r.RawType == "success" {
		ratio = "1 - " + ratio
	}
	return &oslIndicator{promql: &spec.PromQLRatio{ErrorRatio: ratio, Field: path + ".raw",
		Reason: "a precomputed " + r.RawType + " ratio is a value only Prometheus sees, not events obsd can count (its error ratio over a window is the query's average over it); " +
			"write 'bad' (or 'good') and 'total' as counters to evaluate it in obsd"}}
}

// overWindow is a query's value over {{.window}}: as written when it
// has {{.window}}, else its average over the window (of the series, or
// of a subquery).
func overWindow(text string, expr parser.Expr) string {
	switch {
	case windowPlaceholder.MatchString(text):
		return "(" + text + ")"
	case isSelector(expr):
		return "avg_over_time(" + text + "[{{.window}}])"
	}
	return "avg_over_time((" + text + ")[{{.window}}:])"
}

// isSelector: e is a plain series selector (no offset, no @).
func isSelector(e parser.Expr) bool {
	vs, ok := e.(*parser.VectorSelector)
	return ok && vs.OriginalOffset == 0 && vs.Timestamp == nil && vs.StartOrEnd == 0
}

var windowPlaceholder = regexp.MustCompile(`{{\s*\.window\s*}}`)

// thresholdOps are the objective ops of a thresholdMetric as PromQL
// comparisons: the query's value is good when it holds.
var thresholdOps = map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}

// gaugeRatio is the export-only error ratio of a thresholdMetric over a
// gauge: the share of each window in which the value was not good.
func (c *oslConv) gaugeRatio(d *oslDoc, query string, o *raw.Objective) *spec.PromQLRatio {
	const p = "spec.objectives[0]"
	op, ok := thresholdOps[o.Op]
	if !ok {
		c.addf(d, p+".op", "must be lt, lte, gt or gte, got %q", o.Op)
		return nil
	}
	if o.Value == nil {
		c.addf(d, p+".value", "is required for a thresholdMetric: the value the query is compared with (op %s)", o.Op)
		return nil
	}
	v := strconv.FormatFloat(*o.Value, 'g', -1, 64)
	return &spec.PromQLRatio{Field: "spec.indicator.spec.thresholdMetric",
		ErrorRatio: fmt.Sprintf("1 - avg_over_time(((%s) %s bool %s)[{{.window}}:])", query, op, v),
		Reason: fmt.Sprintf("the query is not a histogram selector, so obsd cannot count its events: Prometheus samples its value, good while it is %s %s, "+
			"and the error ratio is the share of the window it was not; use a histogram selector with op lte to evaluate it in obsd", op, v)}
}
