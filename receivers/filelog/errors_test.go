package filelog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestReasonOf(t *testing.T) {
	tests := []struct {
		name, msg, want string
	}{
		{"a file without read permission is unreadable", "Failed to open file - unreadable", ReasonUnreadable},
		{"a path that cannot be opened (deleted, dangling symlink) failed to open", "Failed to open file", ReasonOpenFailed},
		{"a scan error while reading is a read failure", "failed during scan", ReasonReadFailed},
		{"a token the decoder refuses is a read failure", "failed to decode token", ReasonReadFailed},
		{"a line the container parser cannot parse is a parse failure", "Failed to process entry", ReasonParseFailed},
		{"a batch refused for good is dropped", "ConsumeLogs() failed. The error is not retryable. Dropping data.", ReasonDropped},
		{"a batch retried past max_elapsed_time is dropped", "Max elapsed time expired. Dropping data.", ReasonDropped},
		{"a batch refused without retry_on_failure is dropped", "ConsumeLogs() failed. Enable retry_on_failure to slow down reading logs and avoid dropping.", ReasonDropped},
		{"the adapter's own report of a failed batch is not counted twice", "ConsumeLogs() failed", ""},
		{"other messages are not counted", "Started watching file", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, reasonOf(tt.msg))
		})
	}
	for msg, r := range upstreamErrors {
		assert.Contains(t, Reasons, r, "reason of %q is not in Reasons", msg)
	}
}

func TestCountingCore(t *testing.T) {
	tests := []struct {
		name  string
		level zapcore.Level // the service's log level
		log   func(*zap.Logger)
		want  map[string]int
		lines int // lines that reach the real core
	}{
		{
			name:  "known error messages are counted and still logged",
			level: zapcore.InfoLevel,
			log: func(l *zap.Logger) {
				l.Error("Failed to open file - unreadable", zap.String("path", "/x"))
				l.Error("Failed to open file")
				l.Error("Failed to open file")
			},
			want:  map[string]int{ReasonUnreadable: 1, ReasonOpenFailed: 2},
			lines: 3,
		},
		{
			name:  "counting does not depend on the log level",
			level: zapcore.FatalLevel,
			log:   func(l *zap.Logger) { l.Error("Failed to process entry") },
			want:  map[string]int{ReasonParseFailed: 1},
			lines: 0,
		},
		{
			name:  "a known message below error level is not counted (quiet on_error modes log at debug)",
			level: zapcore.DebugLevel,
			log:   func(l *zap.Logger) { l.Debug("Failed to process entry") },
			want:  map[string]int{},
			lines: 1,
		},
		{
			name:  "loggers derived with With count too",
			level: zapcore.InfoLevel,
			log: func(l *zap.Logger) {
				l.With(zap.String("component", "fileconsumer")).Named("x").Error("failed during scan")
			},
			want:  map[string]int{ReasonReadFailed: 1},
			lines: 1,
		},
		{
			name:  "unknown error messages are logged, not counted",
			level: zapcore.InfoLevel,
			log:   func(l *zap.Logger) { l.Error("something else") },
			want:  map[string]int{},
			lines: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(tt.level)
			got := map[string]int{}
			l := zap.New(core).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
				return &countingCore{Core: c, count: func(r string) { got[r]++ }}
			}))
			tt.log(l)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.lines, logs.Len())
		})
	}
}
