package match

import (
	"strings"

	"github.com/obsd-dev/obsd/slo/spec"
)

// LogSelector reports whether the fields read through get (which returns
// "" for an absent field, as in Prometheus) satisfy every matcher of s.
func LogSelector(s *spec.LogSelector, get func(*spec.LogField) string) bool {
	for i := range s.Matchers {
		m := &s.Matchers[i]
		if !m.Matcher.Matches(get(&m.Field)) {
			return false
		}
	}
	return true
}

// Log reports whether a record of l's service counts as an event and
// whether it is a bad one; sev is its SeverityNumber (0 unknown). It does
// not allocate; get's result is used before get is called again.
func Log(l *spec.LogSLI, sev int32, get func(*spec.LogField) string) (total, bad bool) {
	if !LogSelector(&l.Total, get) {
		return false, false
	}
	if l.MinSeverity > 0 && sev < l.MinSeverity {
		return true, false
	}
	return true, LogSelector(&l.Bad, get)
}

// SeverityFromText maps a record's SeverityText to the lowest number of
// its range when the record carries no SeverityNumber ("error", "ERR",
// "Warning", "critical" ...); 0 when unknown. It does not allocate.
func SeverityFromText(text string) int32 {
	for _, a := range severityAliases {
		if strings.EqualFold(text, a.text) {
			return a.num
		}
	}
	return 0
}

var severityAliases = [...]struct {
	text string
	num  int32
}{
	{"TRACE", 1}, {"DEBUG", 5}, {"INFO", 9}, {"INFORMATION", 9}, {"NOTICE", 10},
	{"WARN", 13}, {"WARNING", 13}, {"ERROR", 17}, {"ERR", 17},
	{"FATAL", 21}, {"CRITICAL", 21}, {"CRIT", 21}, {"ALERT", 22}, {"EMERGENCY", 23}, {"PANIC", 21},
}
