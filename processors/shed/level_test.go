package shed

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestLevelOf(t *testing.T) {
	th := Thresholds{DebugLogs: 0.6, InfoLogs: 0.7, UnsampledSpans: 0.75}
	for _, tc := range []struct {
		name  string
		ratio float64
		want  Level
	}{
		{"no pressure, no shedding", 0.1, LevelNone},
		{"just under the first threshold, no shedding", 0.5999, LevelNone},
		{"at the first threshold, debug logs", 0.6, LevelDebugLogs},
		{"at the second, info logs", 0.7, LevelInfoLogs},
		{"at the third, unsampled spans", 0.75, LevelUnsampledSpans},
		{"over the limit, still the highest level", 3, LevelUnsampledSpans},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, th.LevelOf(tc.ratio)) })
	}
}

func TestLogClass(t *testing.T) {
	for _, tc := range []struct {
		name string
		num  plog.SeverityNumber
		text string
		want int
	}{
		{"TRACE is debug class", plog.SeverityNumberTrace, "", classDebug},
		{"DEBUG4 is debug class", plog.SeverityNumberDebug4, "", classDebug},
		{"INFO is info class", plog.SeverityNumberInfo, "", classInfo},
		{"INFO4 is info class", plog.SeverityNumberInfo4, "", classInfo},
		{"WARN is kept", plog.SeverityNumberWarn, "", classKept},
		{"FATAL4 is kept", plog.SeverityNumberFatal4, "", classKept},
		{"the number wins over the text", plog.SeverityNumberError, "debug", classKept},
		{"without a number, 'ERROR' text is kept", 0, "ERROR", classKept},
		{"without a number, 'Warning' text is kept", 0, "Warning", classKept},
		{"without a number, 'critical' text is kept", 0, "critical", classKept},
		{"without a number, 'debug' text is debug class", 0, "debug", classDebug},
		{"without a number, 'TRACE' text is debug class", 0, "TRACE", classDebug},
		{"without a number, 'info' text is info class", 0, "info", classInfo},
		{"without number or text, info class", 0, "", classInfo},
		{"an unknown text is info class", 0, "notice", classInfo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lr := plog.NewLogRecord()
			lr.SetSeverityNumber(tc.num)
			lr.SetSeverityText(tc.text)
			assert.Equal(t, tc.want, logClass(lr))
		})
	}
}

func TestPressureIsSampledOncePerInterval(t *testing.T) {
	p := newPressure(1000, 100*time.Millisecond)
	var now int64 = 1
	reads := 0
	heap := uint64(500)
	p.now = func() int64 { return now }
	p.read = func() uint64 { reads++; return heap }
	assert.InDelta(t, 0.5, p.Ratio(), 1e-9)
	heap = 900
	now += int64(50 * time.Millisecond)
	assert.InDelta(t, 0.5, p.Ratio(), 1e-9, "within the interval the cached reading is used")
	assert.Equal(t, 1, reads)
	now += int64(60 * time.Millisecond)
	assert.InDelta(t, 0.9, p.Ratio(), 1e-9, "after the interval memory is read again")
	assert.Equal(t, 2, reads)
}

func TestPressureReadsTheRealHeap(t *testing.T) {
	p := newPressure(1<<40, time.Millisecond)
	r := p.Ratio()
	assert.Greater(t, r, 0.0, "a running Go program has heap objects")
	assert.Less(t, r, 1.0)
}

// settableRatio is a ratioSource a test moves.
type settableRatio struct{ r float64 }

func (s *settableRatio) Ratio() float64 { return s.r }

func TestLevelStepsDownOnlyAfterTheCoolDown(t *testing.T) {
	s, _ := newTestShedder(t, createDefaultConfig().(*Config), signalLogs, LevelNone)
	src := &settableRatio{}
	s.source = src
	s.coolDown = int64(5 * time.Second)
	var now int64 = 1
	s.now = func() int64 { return now }
	steps := []struct {
		name    string
		advance time.Duration
		ratio   float64
		want    Level
	}{
		{"no pressure, no shedding", 0, 0.1, LevelNone},
		{"pressure raises the level at once", 0, 0.9, LevelUnsampledSpans},
		{"a dip (a GC cycle) keeps the level", time.Second, 0.3, LevelUnsampledSpans},
		{"pressure back before the cool-down: still the same level", time.Second, 0.8, LevelUnsampledSpans},
		{"a new dip starts the cool-down again", time.Second, 0.65, LevelUnsampledSpans},
		{"4s below: not yet", 4 * time.Second, 0.65, LevelUnsampledSpans},
		{"5s below: steps down to the level of the pressure", time.Second, 0.65, LevelDebugLogs},
		{"raised again at once", 0, 0.72, LevelInfoLogs},
	}
	for _, st := range steps {
		now += int64(st.advance)
		src.r = st.ratio
		if got := s.currentLevel(); got != st.want {
			t.Fatalf("%s: level %d, want %d", st.name, got, st.want)
		}
	}
}
