package spec

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	yaml "go.yaml.in/yaml/v3"
)

// The validation helpers the format readers share. Every message names
// the YAML field it is about, quoted: 'objective' must be ....

// NameSyntax is the regular expression an SLO name (and an OpenSLO
// document name) must match, as problems quote it.
const NameSyntax = `^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$`

// LabelNameSyntax is the regular expression a label or annotation name
// must match, as problems quote it.
const LabelNameSyntax = `^[a-zA-Z_][a-zA-Z0-9_]*$`

var (
	nameRe      = regexp.MustCompile(NameSyntax)
	labelNameRe = regexp.MustCompile(LabelNameSyntax)
)

// ValidName reports whether s matches NameSyntax.
func ValidName(s string) bool { return nameRe.MatchString(s) }

// ValidLabelName reports whether s matches LabelNameSyntax.
func ValidLabelName(s string) bool { return labelNameRe.MatchString(s) }

// Problems collects the validation problems of one file so that all of
// them are reported at once, each as `FILE: slo "NAME": 'FIELD' problem`.
// Set SLO before validating each SLO.
type Problems struct {
	File, SLO string
	list      []error
	warnings  []error
}

// Warning is a problem that does not stop a file from loading (a key the
// format's own tool ignores too); lint reports it, --strict fails on it.
type Warning struct{ Err error }

func (w *Warning) Error() string { return w.Err.Error() }
func (w *Warning) Unwrap() error { return w.Err }

// IsWarning reports whether err is (or wraps) a Warning.
func IsWarning(err error) bool {
	var w *Warning
	return errors.As(err, &w)
}

// Warnf records a warning about field of the current SLO, worded as Addf.
// With no current SLO (a file-level key) it names the file only.
func (p *Problems) Warnf(field, format string, args ...any) {
	var err error
	if p.SLO == "" {
		err = fmt.Errorf("%s: '%s' %s", p.File, field, fmt.Sprintf(format, args...))
	} else {
		err = fmt.Errorf("%s: slo %q: '%s' %s", p.File, p.SLO, field, fmt.Sprintf(format, args...))
	}
	p.warnings = append(p.warnings, &Warning{Err: err})
}

// Warnings returns the warnings recorded so far.
func (p *Problems) Warnings() []error { return p.warnings }

// Addf records a problem with field (the YAML path, e.g.
// "sli.metric.bad") of the current SLO.
func (p *Problems) Addf(field, format string, args ...any) {
	p.list = append(p.list, fmt.Errorf("%s: slo %q: '%s' %s", p.File, p.SLO, field, fmt.Sprintf(format, args...)))
}

// Add records a problem that belongs to no one SLO; err names the file.
func (p *Problems) Add(err error) { p.list = append(p.list, err) }

// Len is the number of problems so far.
func (p *Problems) Len() int { return len(p.list) }

// Err joins every problem (errors.Join); nil when there is none.
func (p *Problems) Err() error { return errors.Join(p.list...) }

// CheckCommon checks what every format's SLO has: a valid name, a
// service, and an objective in percent strictly between 0 and 100.
func CheckCommon(name, service string, objective float64, p *Problems) {
	if name == "" {
		p.Addf("name", "is required")
	} else if !ValidName(name) {
		p.Addf("name", "must match %s", NameSyntax)
	}
	if service == "" {
		p.Addf("service", "is required")
	}
	if !(objective > 0 && objective < 100) {
		p.Addf("objective", "must be a percentage strictly between 0 and 100, got %v", objective)
	}
}

// CheckLabels checks the label names of m (in sorted order), field
// naming the map.
func CheckLabels(m map[string]string, field string, p *Problems) {
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		if !ValidLabelName(k) {
			p.Addf(field, "has an invalid label name %q (want %s)", k, LabelNameSyntax)
		}
	}
}

// PercentToRatio turns 99.9 into 0.999 without the float noise of a
// plain division (99.9/100 = 0.9990000000000001).
func PercentToRatio(pct float64) float64 { return math.Round(pct*1e9) / 1e11 }

// CheckUnique reports every SLO whose name an earlier one already has,
// naming both files.
func CheckUnique(slos []*SLO) error {
	seen := map[string]string{}
	var errList []error
	for _, s := range slos {
		if prev, ok := seen[s.Name]; ok {
			errList = append(errList, fmt.Errorf("%s: slo %q: 'name' is already used in %s", s.Source, s.Name, prev))
			continue
		}
		seen[s.Name] = s.Source
	}
	return errors.Join(errList...)
}

// ParseSelector parses a PromQL series selector (field names it in
// problems) with Prometheus' parser.
func ParseSelector(text, field string, p *Problems) Selector {
	if text == "" {
		p.Addf(field, "is required")
		return Selector{}
	}
	ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector(text)
	if err != nil {
		p.Addf(field, "is not a valid series selector: %v", err)
		return Selector{}
	}
	return SelectorFrom(text, ms, field, p)
}

// SelectorFrom builds a Selector from parsed matchers: the metric name
// must be given with an equality matcher.
func SelectorFrom(text string, ms []*labels.Matcher, field string, p *Problems) Selector {
	sel := Selector{Text: text}
	for _, m := range ms {
		if m.Name == labels.MetricName {
			if m.Type != labels.MatchEqual {
				p.Addf(field, "must name its metric with an equality matcher")
				continue
			}
			sel.MetricName = m.Value
			continue
		}
		sel.Matchers = append(sel.Matchers, m)
	}
	if sel.MetricName == "" {
		p.Addf(field, "must name a metric")
	}
	return sel
}

// windowTemplate is Sloth's and OpenSLO's rate window placeholder.
var windowTemplate = regexp.MustCompile(`{{\s*\.window\s*}}`)

// ParseQuery parses a PromQL query that may hold the {{.window}}
// placeholder of Sloth and OpenSLO queries (read as 5m), without its
// outer parentheses.
func ParseQuery(q string) (parser.Expr, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(windowTemplate.ReplaceAllString(q, "5m"))
	if err != nil {
		return nil, err
	}
	return Unparen(expr), nil
}

// Unparen strips the parentheses around e.
func Unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// DecodeFile refuses a file over the limits (CheckLimits) and decodes its
// first YAML document into v with unknown keys as errors
// ("FILE: invalid slo file: ...").
func DecodeFile(file string, data []byte, v any) error {
	if err := CheckLimits(file, data); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: invalid slo file: %w", file, err)
	}
	return nil
}

// SLOs returns the SLOs read from a file whose format lists them under
// 'slos', or every problem: those collected, "'slos' must declare at least
// one slo" when there is none (and no other problem), and names used twice.
func (p *Problems) SLOs(slos []*SLO) ([]*SLO, error) {
	if len(slos) == 0 && p.Len() == 0 {
		p.Add(fmt.Errorf("%s: 'slos' must declare at least one slo", p.File))
	}
	if err := errors.Join(p.Err(), CheckUnique(slos)); err != nil {
		return nil, err
	}
	return slos, nil
}
