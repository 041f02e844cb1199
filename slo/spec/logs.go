package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/obsd-dev/obsd/slo/contract"
)

// LogSLI counts the log records of a service: every record matching
// Total is an event; an event is bad when it reaches MinSeverity (when
// set) and matches Bad (when set). At least one of the two is set.
type LogSLI struct {
	// Service is the resource's service.name; defaults to the SLO's service.
	Service string
	// Total selects the records that are events; empty: every record of
	// the service.
	Total LogSelector
	// Bad selects the bad events among them; empty: no matcher condition.
	Bad LogSelector
	// MinSeverity, when above zero, is the lowest OTel SeverityNumber of a
	// bad event (ERROR is 17: 17-24 is ERROR and FATAL).
	MinSeverity int32
	// GroupBy splits the SLO into one instance per value set of these
	// fields (same syntax as matcher names, e.g. "http.route", "body.path").
	GroupBy []LogField
}

// LogSelector is a parsed log selector, e.g.
// `{http.status_code=~"5..", body.path=~"/api/.*"}`.
type LogSelector struct {
	// Text is the selector as written.
	Text string
	// Matchers must all match; none matches every record.
	Matchers []LogMatcher
}

// LogMatcher is one matcher of a log selector.
type LogMatcher struct {
	Field   LogField
	Matcher *labels.Matcher
}

// LogFieldSource says where a log field is read from.
type LogFieldSource uint8

// Log field sources, chosen by the name's prefix.
const (
	// FieldAttribute: an unprefixed name; the record attribute, else the
	// resource attribute of that name.
	FieldAttribute LogFieldSource = iota
	// FieldRecord: "attributes.<key>", the record attribute only.
	FieldRecord
	// FieldResource: "resource.<key>", the resource attribute only.
	FieldResource
	// FieldBody: "body" (a string body as a whole) or "body.<path>" (a
	// field of a map body or of a JSON object string body; the path is
	// split at dots).
	FieldBody
)

// LogField names one value of a log record.
type LogField struct {
	// Name is the field as written, e.g. "body.status"; it is also the
	// group label name for group_by.
	Name   string
	Source LogFieldSource
	// Key is the attribute key (FieldAttribute, FieldRecord, FieldResource).
	Key string
	// Path is the body path (FieldBody); empty for the whole body.
	Path []string
}

// ParseLogField reads a field name: "resource.<key>", "attributes.<key>",
// "body", "body.<path>" or an attribute key.
func ParseLogField(name string) (LogField, error) {
	f := LogField{Name: name, Key: name}
	switch {
	case name == "":
		return f, fmt.Errorf("empty field name")
	case name == "body":
		f.Source, f.Key = FieldBody, ""
	case strings.HasPrefix(name, "body."):
		f.Source, f.Key = FieldBody, ""
		f.Path = strings.Split(name[len("body."):], ".")
	case strings.HasPrefix(name, "resource."):
		f.Source, f.Key = FieldResource, name[len("resource."):]
	case strings.HasPrefix(name, "attributes."):
		f.Source, f.Key = FieldRecord, name[len("attributes."):]
	}
	for _, p := range f.Path {
		if p == "" {
			return f, fmt.Errorf("field %q has an empty path element", name)
		}
	}
	if f.Source != FieldBody && f.Key == "" {
		return f, fmt.Errorf("field %q names no attribute", name)
	}
	return f, nil
}

// UsesBody reports whether any matcher or group_by field reads the body.
func (l *LogSLI) UsesBody() bool {
	for _, s := range [2]*LogSelector{&l.Total, &l.Bad} {
		for _, m := range s.Matchers {
			if m.Field.Source == FieldBody {
				return true
			}
		}
	}
	for _, g := range l.GroupBy {
		if g.Source == FieldBody {
			return true
		}
	}
	return false
}

// OTel SeverityNumber ranges: each name covers four numbers (TRACE 1-4,
// DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24).
var severityNames = [...]string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// ParseSeverity reads a severity for min_severity: a name of the OTel
// ranges (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, case-insensitive; the
// lowest number of the range) or a SeverityNumber 1-24.
func ParseSeverity(s string) (int32, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return int32(i*4 + 1), nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 24 {
		return int32(n), nil
	}
	return 0, fmt.Errorf("%q is not a severity (TRACE, DEBUG, INFO, WARN, ERROR, FATAL or 1-24)", s)
}

// GroupBy returns the names of the SLO's group_by attributes (the group
// label names of its instances); nil when the SLO is not grouped.
func (s *SLO) GroupBy() []string {
	switch {
	case s.SLI.Metric != nil:
		return s.SLI.Metric.GroupBy
	case s.SLI.Latency != nil:
		return s.SLI.Latency.GroupBy
	case s.SLI.Spans != nil && s.SLI.Spans.AnyService:
		return []string{contract.LabelService}
	case s.SLI.Logs != nil && len(s.SLI.Logs.GroupBy) > 0:
		names := make([]string, len(s.SLI.Logs.GroupBy))
		for i, f := range s.SLI.Logs.GroupBy {
			names[i] = f.Name
		}
		return names
	}
	return nil
}

// Limit returns the SLO's group_by cap, DefaultGroupByLimit when unset.
func (s *SLO) Limit() int {
	if s.GroupByLimit <= 0 {
		return DefaultGroupByLimit
	}
	return s.GroupByLimit
}
