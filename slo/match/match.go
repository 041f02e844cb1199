// Package match evaluates SLIs against telemetry on the hot path: which
// series, spans and log records an SLI counts and which of them are bad,
// and the fields of a log record's JSON body. It reads the validated
// model of slo/spec; nothing here allocates per item or returns an error
// for an ordinary record (the log body reader reports malformed bodies).
// It is the one package of the SLO code that uses unsafe (strings over
// reused buffers).
package match

import (
	"slices"
	"strconv"
	"time"

	"github.com/obsd-dev/obsd/slo/spec"
)

// Selector reports whether an attribute set, read through get (which
// returns "" for an absent attribute, as in Prometheus), satisfies every
// matcher of s. The metric name is not checked here.
func Selector(s *spec.Selector, get func(name string) string) bool {
	for _, m := range s.Matchers {
		if !m.Matches(get(m.Name)) {
			return false
		}
	}
	return true
}

// Ratio reports whether a series (metric name and attributes read
// through get) counts toward the total and/or the bad events of r.
func Ratio(r *spec.MetricRatio, name string, get func(string) string) (total, bad bool) {
	total = name == r.Total.MetricName && Selector(&r.Total, get)
	bad = name == r.Bad.MetricName && Selector(&r.Bad, get)
	return total, bad
}

// LatencyRole is what a series means to a latency SLI.
type LatencyRole uint8

// Latency roles.
const (
	// NotLatency: the series is not part of the SLI.
	NotLatency LatencyRole = iota
	// LatencyHistogram: an OTel histogram with the SLI's metric name.
	LatencyHistogram
	// LatencyCount: the Prometheus-style "<name>_count" series (all events).
	LatencyCount
	// LatencyGood: the "<name>_bucket" series whose "le" is the threshold
	// (the good events).
	LatencyGood
)

// Latency classifies a series for l: an OTel histogram by its name, or
// the Prometheus-style "_count" and "_bucket{le=threshold}" series. Other
// "_bucket" series are NotLatency.
func Latency(l *spec.MetricLatency, name string, get func(string) string) LatencyRole {
	n := l.Histogram.MetricName
	if len(name) < len(n) || name[:len(n)] != n || !Selector(&l.Histogram, get) {
		return NotLatency
	}
	switch name[len(n):] {
	case "":
		return LatencyHistogram
	case "_count":
		return LatencyCount
	case "_bucket":
		if le, err := strconv.ParseFloat(get("le"), 64); err == nil && le == l.Threshold {
			return LatencyGood
		}
	}
	return NotLatency
}

// Span reports whether a span belongs to s: its service (for an
// AnyService SLI any named service but the ExceptServices), and its name
// and route when those are set. Kind filtering (server and consumer
// spans) is the caller's.
func Span(s *spec.SpanSLI, service, name, route string) bool {
	return spanService(s, service) &&
		(s.Name == nil || s.Name.MatchString(name)) &&
		(s.Route == nil || s.Route.MatchString(route))
}

func spanService(s *spec.SpanSLI, service string) bool {
	if !s.AnyService {
		return service == s.Service
	}
	return service != "" && !slices.Contains(s.ExceptServices, service)
}

// SpanBad reports whether a span is a bad event of s: status error, an
// HTTP 5xx response status (0 when absent), or a duration over the
// threshold, as enabled.
func SpanBad(s *spec.SpanSLI, statusError bool, httpStatus int64, d time.Duration) bool {
	return (s.StatusError && statusError) ||
		(s.HTTP5xx && httpStatus >= 500 && httpStatus <= 599) ||
		(s.DurationOver > 0 && d > s.DurationOver)
}
