package spec

import (
	"strconv"
	"time"
)

// Match reports whether a series (metric name and attributes read
// through get) counts toward the total and/or the bad events.
func (r *MetricRatio) Match(name string, get func(string) string) (total, bad bool) {
	total = name == r.Total.MetricName && r.Total.Matches(get)
	bad = name == r.Bad.MetricName && r.Bad.Matches(get)
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

// Role classifies a series for this SLI: an OTel histogram by its name,
// or the Prometheus-style "_count" and "_bucket{le=threshold}" series.
// Other "_bucket" series are NotLatency.
func (l *MetricLatency) Role(name string, get func(string) string) LatencyRole {
	n := l.Histogram.MetricName
	if len(name) < len(n) || name[:len(n)] != n || !l.Histogram.Matches(get) {
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

// Matches reports whether a span belongs to the SLI: its service, and
// its name and route when those are set. Kind filtering (server and
// consumer spans) is the caller's.
func (s *SpanSLI) Matches(service, name, route string) bool {
	return service == s.Service &&
		(s.Name == nil || s.Name.MatchString(name)) &&
		(s.Route == nil || s.Route.MatchString(route))
}

// Bad reports whether a span is a bad event: status error, an HTTP 5xx
// response status (0 when absent), or a duration over the threshold, as
// enabled.
func (s *SpanSLI) Bad(statusError bool, httpStatus int64, d time.Duration) bool {
	return (s.StatusError && statusError) ||
		(s.HTTP5xx && httpStatus >= 500 && httpStatus <= 599) ||
		(s.DurationOver > 0 && d > s.DurationOver)
}
