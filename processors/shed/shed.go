package shed

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

const (
	signalLogs   = "logs"
	signalTraces = "traces"
	mib          = 1 << 20
)

// ratioSource is what the level is computed from: used memory over the
// soft limit.
type ratioSource interface{ Ratio() float64 }

// shedder is one shed processor instance (one per pipeline).
type shedder struct {
	source     ratioSource
	thresholds Thresholds
	protect    []MatcherConfig
	tel        *telemetry
	coolDown   int64        // nanoseconds
	now        func() int64 // nanoseconds
	level      atomic.Int32 // the level in force
	lowSince   atomic.Int64 // when the pressure first fell below the level in force; 0 when it has not
}

func newShedder(set processor.Settings, cfg *Config, signal string) (*shedder, error) {
	s := &shedder{
		source:     newPressure(cfg.MemoryLimitMiB*mib, cfg.CheckInterval),
		thresholds: cfg.thresholds(),
		protect:    cfg.Protect,
		coolDown:   int64(cfg.CoolDown),
		now:        func() int64 { return time.Now().UnixNano() },
	}
	tel, err := newTelemetry(set.TelemetrySettings, set.ID.String(), signal, s)
	if err != nil {
		return nil, err
	}
	s.tel = tel
	return s, nil
}

func (s *shedder) shutdown(ctx context.Context) error { return s.tel.shutdown(ctx) }

// currentLevel is the level for the current (cached) pressure: raised at
// once, lowered only once the pressure has stayed under the level in force
// for the cool-down. Without pressure it reads two atomics.
func (s *shedder) currentLevel() Level {
	target := s.thresholds.LevelOf(s.source.Ratio())
	cur := Level(s.level.Load())
	if target >= cur {
		if target > cur {
			s.level.Store(int32(target))
		}
		if s.lowSince.Load() != 0 {
			s.lowSince.Store(0)
		}
		return target
	}
	now := s.now()
	since := s.lowSince.Load()
	if since == 0 {
		s.lowSince.CompareAndSwap(0, now)
		since = now
	}
	if now-since < s.coolDown {
		return cur
	}
	s.level.Store(int32(target))
	s.lowSince.Store(0)
	return target
}

// protected reports whether attrs match any protect matcher.
func (s *shedder) protected(attrs pcommon.Map) bool {
	for i := range s.protect {
		m := &s.protect[i]
		v, ok := attrs.Get(m.Key)
		if !ok {
			continue
		}
		if len(m.Values) == 0 {
			return true
		}
		if v.Type() != pcommon.ValueTypeStr {
			continue
		}
		str := v.Str()
		for _, want := range m.Values {
			if str == want {
				return true
			}
		}
	}
	return false
}

// The shed processor never modifies the data it is given: it declares
// MutatesData false, so that the collector does not clone every batch at
// the fan-out in front of it (the slo connector reads the same batch). When
// it sheds, it builds a new batch of the kept items instead: copy-on-write,
// paid only under pressure and only for what is kept.

// logReason returns the shed reason of a record at level lvl, or -1 to keep it.
func (s *shedder) logReason(lr plog.LogRecord, lvl Level) int {
	reason := -1
	switch logClass(lr) {
	case classDebug:
		reason = reasonDebugLog
	case classInfo:
		if lvl >= LevelInfoLogs {
			reason = reasonInfoLog
		}
	}
	if reason < 0 || s.protected(lr.Attributes()) {
		return -1
	}
	return reason
}

// processLogs sheds TRACE/DEBUG (level 1+) and INFO (level 2+) records
// that no matcher protects. Without pressure it returns at once.
func (s *shedder) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	lvl := s.currentLevel()
	if lvl < LevelDebugLogs {
		return ld, nil
	}
	var counts [numReasons]int64
	kept := 0
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		if s.protected(rl.Resource().Attributes()) {
			kept++
			continue
		}
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				if r := s.logReason(lrs.At(k), lvl); r >= 0 {
					counts[r]++
				} else {
					kept++
				}
			}
		}
	}
	if counts == ([numReasons]int64{}) {
		return ld, nil
	}
	s.tel.record(ctx, &counts)
	if kept == 0 {
		return plog.NewLogs(), processorhelper.ErrSkipProcessingData
	}
	out := plog.NewLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		if s.protected(rl.Resource().Attributes()) {
			rl.CopyTo(out.ResourceLogs().AppendEmpty())
			continue
		}
		var outRL plog.ResourceLogs
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			var outSL plog.ScopeLogs
			lrs := sl.LogRecords()
			for k := range lrs.Len() {
				lr := lrs.At(k)
				if s.logReason(lr, lvl) >= 0 {
					continue
				}
				if outSL == (plog.ScopeLogs{}) {
					if outRL == (plog.ResourceLogs{}) {
						outRL = out.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(outRL.Resource())
						outRL.SetSchemaUrl(rl.SchemaUrl())
					}
					outSL = outRL.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(outSL.Scope())
					outSL.SetSchemaUrl(sl.SchemaUrl())
				}
				lr.CopyTo(outSL.LogRecords().AppendEmpty())
			}
		}
	}
	return out, nil
}

// spanShed reports whether a span is shed at level 3: its sampled trace
// flag is clear, its status is not Error and no matcher protects it.
func (s *shedder) spanShed(sp ptrace.Span) bool {
	return sp.Flags()&sampledFlag == 0 && sp.Status().Code() != ptrace.StatusCodeError && !s.protected(sp.Attributes())
}

// processTraces sheds, at level 3, spans whose sampled trace flag is clear,
// unless their status is Error or a matcher protects them.
func (s *shedder) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	if s.currentLevel() < LevelUnsampledSpans {
		return td, nil
	}
	var counts [numReasons]int64
	kept := 0
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		if s.protected(rs.Resource().Attributes()) {
			kept++
			continue
		}
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			sps := sss.At(j).Spans()
			for k := range sps.Len() {
				if s.spanShed(sps.At(k)) {
					counts[reasonUnsampledSpan]++
				} else {
					kept++
				}
			}
		}
	}
	if counts[reasonUnsampledSpan] == 0 {
		return td, nil
	}
	s.tel.record(ctx, &counts)
	if kept == 0 {
		return ptrace.NewTraces(), processorhelper.ErrSkipProcessingData
	}
	out := ptrace.NewTraces()
	for i := range rss.Len() {
		rs := rss.At(i)
		if s.protected(rs.Resource().Attributes()) {
			rs.CopyTo(out.ResourceSpans().AppendEmpty())
			continue
		}
		var outRS ptrace.ResourceSpans
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			var outSS ptrace.ScopeSpans
			sps := ss.Spans()
			for k := range sps.Len() {
				sp := sps.At(k)
				if s.spanShed(sp) {
					continue
				}
				if outSS == (ptrace.ScopeSpans{}) {
					if outRS == (ptrace.ResourceSpans{}) {
						outRS = out.ResourceSpans().AppendEmpty()
						rs.Resource().CopyTo(outRS.Resource())
						outRS.SetSchemaUrl(rs.SchemaUrl())
					}
					outSS = outRS.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(outSS.Scope())
					outSS.SetSchemaUrl(ss.SchemaUrl())
				}
				sp.CopyTo(outSS.Spans().AppendEmpty())
			}
		}
	}
	return out, nil
}

// sampledFlag is the W3C sampled bit of the trace flags, the low byte of a
// span's flags.
const sampledFlag = 0x01
