package filelog

import "go.uber.org/zap/zapcore"

// Reasons of obsd_filelog_errors_total, the values of its `reason` label.
const (
	// ReasonUnreadable: a matched file could not be opened for lack of
	// permission. Upstream logs it once per path per process start.
	ReasonUnreadable = "unreadable"
	// ReasonOpenFailed: a matched path could not be opened for another
	// reason, such as a file deleted between the directory listing and the
	// open, or a dangling symlink (a removed Docker container's log).
	// Logged and counted at every poll while the path is there.
	ReasonOpenFailed = "open_failed"
	// ReasonReadFailed: an open file could not be read on (seek, stat,
	// decode or scan error); the rest of the file is tried at the next poll.
	ReasonReadFailed = "read_failed"
	// ReasonParseFailed: an operator could not process a line, e.g. the
	// container parser on a line in neither CRI nor Docker JSON format.
	// The line is sent on unparsed (on_error: send) or dropped (drop).
	ReasonParseFailed = "parse_failed"
	// ReasonDropped: the pipeline refused a batch for good (a permanent
	// error, or retry_on_failure gave up) and its records were dropped.
	ReasonDropped = "dropped"
)

// Reasons lists every reason, in the order the README documents them.
var Reasons = []string{ReasonUnreadable, ReasonOpenFailed, ReasonReadFailed, ReasonParseFailed, ReasonDropped}

// upstreamErrors maps the messages the upstream receiver (pkg/stanza
// v0.165.1: fileconsumer, its reader, the operator helper and the retrying
// consumer) logs at error level when it skips or loses something, to the
// reason it is counted under. The tests provoke all but the read errors
// against the real receiver, so a message changed upstream fails them.
var upstreamErrors = map[string]string{
	"Failed to open file - unreadable": ReasonUnreadable,
	"Failed to open file":              ReasonOpenFailed,
	"Failed to create reader":          ReasonOpenFailed,
	"failed to seek":                   ReasonReadFailed,
	"failed to stat":                   ReasonReadFailed,
	"failed to create gzip reader":     ReasonReadFailed,
	"failed during scan":               ReasonReadFailed,
	"failed during header scan":        ReasonReadFailed,
	"failed to decode token":           ReasonReadFailed,
	"failed to decode header token":    ReasonReadFailed,
	"Failed to process entry":          ReasonParseFailed,
	"ConsumeLogs() failed. The error is not retryable. Dropping data.":                            ReasonDropped,
	"Max elapsed time expired. Dropping data.":                                                    ReasonDropped,
	"ConsumeLogs() failed. Enable retry_on_failure to slow down reading logs and avoid dropping.": ReasonDropped,
}

// reasonOf is the reason an error-level message of the upstream receiver
// is counted under, or "" when it is not one that skips or loses data.
func reasonOf(msg string) string { return upstreamErrors[msg] }

// countingCore is a zap core around the receiver's logger that counts the
// error-level messages reasonOf knows before they reach the real core (and
// its sampling): every occurrence is counted, whatever is printed. It is
// enabled at error level even when the service logs less, so counting does
// not depend on the log level.
type countingCore struct {
	zapcore.Core
	count func(reason string)
}

func (c *countingCore) Enabled(l zapcore.Level) bool {
	return l >= zapcore.ErrorLevel || c.Core.Enabled(l)
}

func (c *countingCore) With(fields []zapcore.Field) zapcore.Core {
	return &countingCore{Core: c.Core.With(fields), count: c.count}
}

func (c *countingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level >= zapcore.ErrorLevel {
		if r := reasonOf(e.Message); r != "" {
			c.count(r)
		}
	}
	return c.Core.Check(e, ce)
}
