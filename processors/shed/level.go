package shed

import (
	"go.opentelemetry.io/collector/pdata/plog"
)

// Level is how hard the processor sheds; each level sheds what the levels
// below it shed, and more.
type Level int32

// Shedding levels, in order of pressure.
const (
	// LevelNone sheds nothing.
	LevelNone Level = iota
	// LevelDebugLogs sheds TRACE and DEBUG logs.
	LevelDebugLogs
	// LevelInfoLogs also sheds INFO logs (and logs without a severity).
	LevelInfoLogs
	// LevelUnsampledSpans also sheds spans whose sampled trace flag is clear.
	LevelUnsampledSpans
)

// Thresholds are the pressure ratios (used memory / soft limit) at which
// each level starts; they ascend.
type Thresholds struct {
	DebugLogs, InfoLogs, UnsampledSpans float64
}

// LevelOf is the level for a pressure ratio.
func (t Thresholds) LevelOf(ratio float64) Level {
	switch {
	case ratio >= t.UnsampledSpans:
		return LevelUnsampledSpans
	case ratio >= t.InfoLogs:
		return LevelInfoLogs
	case ratio >= t.DebugLogs:
		return LevelDebugLogs
	}
	return LevelNone
}

// severity classes of a log record.
const (
	classDebug = iota // TRACE and DEBUG
	classInfo         // INFO, and records without a usable severity
	classKept         // WARN and above: never shed
)

// logClass classifies a record by its severity number, or, when that is
// unspecified, by the first letters of its severity text (case-insensitive,
// without allocating): TRACE/DEBUG, INFO or WARN+. A record with neither
// is counted as INFO.
func logClass(lr plog.LogRecord) int {
	n := lr.SeverityNumber()
	switch {
	case n >= plog.SeverityNumberWarn:
		return classKept
	case n >= plog.SeverityNumberInfo:
		return classInfo
	case n >= plog.SeverityNumberTrace:
		return classDebug
	}
	return textClass(lr.SeverityText())
}

func textClass(s string) int {
	if len(s) == 0 {
		return classInfo
	}
	switch lower(s[0]) {
	case 't', 'd':
		return classDebug
	case 'w', 'e', 'f', 'c', 'a', 'p': // warn, error, fatal, critical, alert, panic
		return classKept
	}
	return classInfo
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
