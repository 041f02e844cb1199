package lint

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// format of an SLO file, as the loader dispatches it.
type format uint8

const (
	formatUnknown format = iota
	formatObsd
	formatSloth
	formatOpenSLO
)

// field is a place in an SLO that a check talks about; each format puts
// it at its own path.
type field uint8

const (
	fieldSLO field = iota
	fieldName
	fieldObjective
	fieldPeriod
	fieldBad
	fieldTotal
	fieldLatency
	fieldLogs
	fieldMetricGroupBy
	fieldLogsGroupBy
	fieldAlerting
	fieldPage
	fieldTicket
)

var fieldPaths = map[format]map[field]string{
	formatObsd: {fieldName: "name", fieldObjective: "objective", fieldPeriod: "period",
		fieldBad: "sli.metric.bad", fieldTotal: "sli.metric.total", fieldLatency: "sli.metric.latency.histogram",
		fieldLogs: "sli.logs", fieldMetricGroupBy: "sli.metric.group_by", fieldLogsGroupBy: "sli.logs.group_by", fieldAlerting: "alerting", fieldPage: "alerting.page", fieldTicket: "alerting.ticket"},
	formatSloth: {fieldName: "name", fieldObjective: "objective", fieldBad: "sli.events.error_query",
		fieldTotal: "sli.events.total_query", fieldMetricGroupBy: "sli.events", fieldAlerting: "alerting", fieldPage: "alerting.page_alert",
		fieldTicket: "alerting.ticket_alert"},
	formatOpenSLO: {fieldName: "metadata.name", fieldObjective: "spec.objectives[0]", fieldPeriod: "spec.timeWindow[0]",
		fieldBad: "spec.indicator", fieldTotal: "spec.indicator", fieldLatency: "spec.indicator", fieldMetricGroupBy: "spec.indicator",
		fieldAlerting: "spec.alertPolicies", fieldPage: "spec.alertPolicies", fieldTicket: "spec.alertPolicies"},
}

// locator finds the line of an SLO's field in one file's YAML nodes.
type locator struct {
	format format
	docs   []*yaml.Node // each document's top-level node
}

func newLocator(data []byte) *locator {
	l := &locator{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if len(n.Content) == 1 {
			l.docs = append(l.docs, n.Content[0])
		}
	}
	if len(l.docs) == 0 {
		return l
	}
	switch {
	case strings.HasPrefix(scalar(child(l.docs[0], "apiVersion")), "openslo/"):
		l.format = formatOpenSLO
	case scalar(child(l.docs[0], "version")) == "prometheus/v1":
		l.format = formatSloth
	default:
		l.format = formatObsd
	}
	return l
}

// line returns the line of a check's field in the named SLO, falling
// back to the deepest part of the path present, then the SLO, then 1.
func (l *locator) line(name string, f field) int {
	if f == fieldSLO {
		return l.sloPath(name, "")
	}
	return l.sloPath(name, fieldPaths[l.format][f])
}

// sloPath returns the line of a path (the format's own, as in loader
// errors) inside the named SLO.
func (l *locator) sloPath(name, path string) int {
	if l == nil {
		return 1
	}
	n := l.slo(name)
	if n == nil {
		return 1
	}
	return walk(n, path)
}

// docPath returns the line of a path inside the i-th document.
func (l *locator) docPath(i int, path string) int {
	if l == nil || i < 0 || i >= len(l.docs) {
		return 0
	}
	return walk(l.docs[i], path)
}

// slo finds the SLO's node by its name as the loader builds it.
func (l *locator) slo(name string) *yaml.Node {
	switch l.format {
	case formatOpenSLO:
		for _, d := range l.docs {
			if scalar(child(d, "kind")) == "SLO" && scalar(child(child(d, "metadata"), "name")) == name {
				return d
			}
		}
	case formatObsd, formatSloth:
		prefix := ""
		if l.format == formatSloth {
			prefix = scalar(child(l.docs[0], "service")) + "-"
		}
		slos := child(l.docs[0], "slos")
		if slos == nil || slos.Kind != yaml.SequenceNode {
			return nil
		}
		for _, s := range slos.Content {
			if prefix+scalar(child(s, "name")) == name {
				return s
			}
		}
	}
	return nil
}

// walk follows a dotted path with [i] indexes and returns the line of the
// deepest node reached (a mapping key's line for keys).
func walk(n *yaml.Node, path string) int {
	line := n.Line
	if path == "" {
		return line
	}
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		k, v := keyValue(n, key)
		if v == nil {
			return line
		}
		n, line = v, k.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func keyValue(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

func child(n *yaml.Node, key string) *yaml.Node {
	_, v := keyValue(n, key)
	return v
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
