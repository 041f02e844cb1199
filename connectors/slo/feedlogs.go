package slo

import (
	"strconv"
	"strings"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/match"
	"github.com/obsd-dev/obsd/slo/spec"
)

// logRecord reads the fields of one log record for the log SLIs. A string
// it returns is only valid until the next call (it may point into buf).
type logRecord struct {
	attrs, res pcommon.Map
	body       pcommon.Value
	// buf is scratch space for formatted numbers and decoded JSON strings,
	// reused across records.
	buf []byte
	// malformed: a body field was read from a string body that is not a
	// JSON object.
	malformed bool
	// memo keeps the body fields already read from this record, so that
	// the SLIs of one service that read the same field (e.g. body.status)
	// scan the JSON body once; their values live in arena. Both are reset
	// per record.
	memo  []bodyMemo
	arena []byte
}

// bodyMemo is one body field read from the current record.
type bodyMemo struct {
	name, val string
	malformed bool
}

// reset prepares rec for the next record.
func (r *logRecord) reset(lr plog.LogRecord) {
	r.attrs, r.body = lr.Attributes(), lr.Body()
	r.memo, r.arena = r.memo[:0], r.arena[:0]
}

func (r *logRecord) get(f *spec.LogField) string {
	switch f.Source {
	case spec.FieldAttribute:
		if v, ok := r.attrs.Get(f.Key); ok {
			return r.text(v)
		}
		if v, ok := r.res.Get(f.Key); ok {
			return r.text(v)
		}
	case spec.FieldRecord:
		if v, ok := r.attrs.Get(f.Key); ok {
			return r.text(v)
		}
	case spec.FieldResource:
		if v, ok := r.res.Get(f.Key); ok {
			return r.text(v)
		}
	case spec.FieldBody:
		return r.memoBodyField(f)
	}
	return ""
}

// memoBodyField reads a body field once per record.
func (r *logRecord) memoBodyField(f *spec.LogField) string {
	for i := range r.memo {
		if r.memo[i].name == f.Name {
			r.malformed = r.malformed || r.memo[i].malformed
			return r.memo[i].val
		}
	}
	was := r.malformed
	r.malformed = false
	v := r.bodyField(f.Path)
	m := r.malformed
	r.malformed = was || m
	// Copy the value out of buf (reused by the next read) into the arena.
	// Strings already handed out keep their bytes alive if append moves
	// the arena, and nobody keeps one past the record.
	var val string
	if len(v) > 0 {
		start := len(r.arena)
		r.arena = append(r.arena, v...)
		val = unsafe.String(&r.arena[start], len(v))
	}
	r.memo = append(r.memo, bodyMemo{name: f.Name, val: val, malformed: m})
	return val
}

// text formats a value; strings, numbers and booleans without allocating.
func (r *logRecord) text(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeInt:
		r.buf = strconv.AppendInt(r.buf[:0], v.Int(), 10)
	case pcommon.ValueTypeDouble:
		r.buf = strconv.AppendFloat(r.buf[:0], v.Double(), 'g', -1, 64)
	case pcommon.ValueTypeBool:
		return strconv.FormatBool(v.Bool())
	case pcommon.ValueTypeEmpty:
		return ""
	default: // maps, slices, bytes: their JSON, allocating
		return v.AsString()
	}
	return unsafe.String(&r.buf[0], len(r.buf))
}

// bodyField reads the whole body (empty path) or a field of a map body or
// of a JSON object string body.
func (r *logRecord) bodyField(path []string) string {
	b := r.body
	if len(path) == 0 {
		if b.Type() == pcommon.ValueTypeMap || b.Type() == pcommon.ValueTypeSlice {
			return ""
		}
		return r.text(b)
	}
	switch b.Type() {
	case pcommon.ValueTypeMap:
		for _, p := range path {
			if b.Type() != pcommon.ValueTypeMap {
				return ""
			}
			v, ok := b.Map().Get(p)
			if !ok {
				return ""
			}
			b = v
		}
		return r.text(b)
	case pcommon.ValueTypeStr:
		val, _, buf, err := match.JSONField(b.Str(), path, r.buf)
		r.buf = buf
		if err != nil {
			r.malformed = true
			return ""
		}
		return val
	}
	return ""
}

// scanLogs reads the log records of services with log SLIs into b.
func (s *runner) scanLogs(b *sloengine.Batch, ld plog.Logs) {
	if !s.anyLogSLI {
		return
	}
	now := s.now()
	limit := pcommon.NewTimestampFromTime(now.Add(s.cfg.MaxFutureSkew))
	rec := logRecord{buf: make([]byte, 0, 64)}
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		rec.res = rl.Resource().Attributes()
		slis := s.logSLOs[str(rec.res.Get("service.name"))]
		if len(slis) == 0 {
			continue
		}
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				s.feedLog(b, lrs.At(k), slis, &rec, now, limit)
			}
		}
	}
}

// feedLog counts one record in every log SLI of its service (slis). Its
// time is the record's timestamp, else its observed timestamp, else now.
func (s *runner) feedLog(b *sloengine.Batch, lr plog.LogRecord, slis []compiledSLO, rec *logRecord, now time.Time, limit pcommon.Timestamp) {
	rec.reset(lr)
	ts := lr.Timestamp()
	if ts == 0 {
		ts = lr.ObservedTimestamp()
	}
	if ts == 0 {
		ts = pcommon.NewTimestampFromTime(now)
	}
	sev := int32(lr.SeverityNumber())
	if sev == 0 {
		sev = match.SeverityFromText(lr.SeverityText())
	}
	for _, c := range slis {
		l := c.spec.SLI.Logs
		rec.malformed = false
		total, bad := match.Log(l, sev, rec.get)
		gh := sloengine.HashSeed
		if total {
			for i := range l.GroupBy {
				gh = sloengine.HashString(sloengine.HashString(gh, rec.get(&l.GroupBy[i])), "\xff")
			}
		}
		switch {
		case rec.malformed:
			s.own.malformed.Add(1)
			continue
		case !total:
			continue
		case ts > limit:
			s.own.future.Add(1)
			continue
		}
		var group func() map[string]string
		if len(l.GroupBy) > 0 {
			group = func() map[string]string { return logGroup(l, rec) }
		}
		in := s.engine.Instance(c.idx, gh, group, now)
		if in.Overflow() {
			s.overflowed(c, 1)
		}
		b.AddEvents(in, ts.AsTime(), 1, b2f(bad))
	}
}

// logGroup builds a new instance's group labels (copies: rec's strings
// are only valid until its next read).
func logGroup(l *spec.LogSLI, rec *logRecord) map[string]string {
	m := make(map[string]string, len(l.GroupBy))
	for i := range l.GroupBy {
		m[l.GroupBy[i].Name] = strings.Clone(rec.get(&l.GroupBy[i]))
	}
	return m
}

// overflowed counts n points routed to c's overflow instance and logs the
// first one of each SLO.
func (s *runner) overflowed(c compiledSLO, n uint64) {
	s.overflow[c.idx].Add(n)
	if !s.overflowLogged[c.idx].Swap(true) {
		s.logger.Warn("slo group_by cap reached: further value sets are counted in the overflow instance",
			zap.String("slo", c.spec.Name), zap.Strings("group_by", c.spec.GroupBy()),
			zap.Int("group_by_limit", c.spec.Limit()), zap.String("overflow_value", sloengine.OverflowValue))
	}
}
