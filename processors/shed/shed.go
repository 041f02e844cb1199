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

// processLogs sheds TRACE/DEBUG (level 1+) and INFO (level 2+) records
// that no matcher protects. Without pressure it returns at once.
func (s *shedder) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	lvl := s.currentLevel()
	if lvl < LevelDebugLogs {
		return ld, nil
	}
	var counts [numReasons]int64
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		if s.protected(rl.Resource().Attributes()) {
			return false
		}
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
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
					return false
				}
				counts[reason]++
				return true
			})
			return sl.LogRecords().Len() == 0
		})
		return rl.ScopeLogs().Len() == 0
	})
	s.tel.record(ctx, &counts)
	if ld.ResourceLogs().Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

// processTraces sheds, at level 3, spans whose sampled trace flag is clear,
// unless their status is Error or a matcher protects them.
func (s *shedder) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	if s.currentLevel() < LevelUnsampledSpans {
		return td, nil
	}
	var counts [numReasons]int64
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		if s.protected(rs.Resource().Attributes()) {
			return false
		}
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(sp ptrace.Span) bool {
				if sp.Flags()&sampledFlag != 0 || sp.Status().Code() == ptrace.StatusCodeError || s.protected(sp.Attributes()) {
					return false
				}
				counts[reasonUnsampledSpan]++
				return true
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
	s.tel.record(ctx, &counts)
	if td.ResourceSpans().Len() == 0 {
		return td, processorhelper.ErrSkipProcessingData
	}
	return td, nil
}

// sampledFlag is the W3C sampled bit of the trace flags, the low byte of a
// span's flags.
const sampledFlag = 0x01
