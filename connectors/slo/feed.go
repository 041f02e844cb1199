package slo

import (
	"encoding/binary"
	"strconv"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/match"
	"github.com/obsd-dev/obsd/slo/spec"
)

// str returns an attribute as a string ("" when absent); non-string
// values are formatted (that allocates; SLI attributes are strings).
func str(v pcommon.Value, ok bool) string {
	if !ok {
		return ""
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return v.AsString()
}

// hashValue folds one attribute value into h without allocating.
func hashValue(h uint64, v pcommon.Value) uint64 {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return sloengine.HashString(h, v.Str())
	case pcommon.ValueTypeInt:
		var buf [24]byte
		b := strconv.AppendInt(buf[:0], v.Int(), 10)
		return sloengine.HashString(h, unsafe.String(&b[0], len(b)))
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return sloengine.HashString(h, "true")
		}
		return sloengine.HashString(h, "false")
	case pcommon.ValueTypeDouble:
		var buf [32]byte
		b := strconv.AppendFloat(buf[:0], v.Double(), 'g', -1, 64)
		return sloengine.HashString(h, unsafe.String(&b[0], len(b)))
	default:
		return sloengine.HashString(h, v.Type().String())
	}
}

// hashMap folds every attribute (key and value) into h, whatever their
// order: each pair is hashed alone and the pair hashes are added, so one
// series sent with its attributes in another order is still one series (a
// cumulative counter seen as two series would count its total twice).
func hashMap(h uint64, m pcommon.Map) uint64 {
	var sum uint64
	for k, v := range m.All() {
		sum += hashValue(sloengine.HashString(sloengine.HashSeed, k), v)
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], sum)
	return sloengine.HashString(h, unsafe.String(&buf[0], len(buf)))
}

// spanStatus reads the HTTP response status (new or legacy attribute).
func spanStatus(attrs pcommon.Map) int64 {
	for _, k := range [2]string{"http.response.status_code", "http.status_code"} {
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeInt:
			return v.Int()
		case pcommon.ValueTypeStr:
			n, _ := strconv.ParseInt(v.Str(), 10, 64)
			return n
		case pcommon.ValueTypeDouble:
			return int64(v.Double())
		}
	}
	return 0
}

// scanTraces reads the server and consumer spans of the span SLIs into b:
// the explicit SLIs of their service, else the discovered SLOs
// (discover.go). Spans marked for a game day are left to consumeDrills.
func (s *runner) scanTraces(b *sloengine.Batch, td ptrace.Traces) {
	now := s.now()
	limit := now.Add(s.cfg.MaxFutureSkew)
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		res := rs.Resource().Attributes()
		if _, ok := res.Get(contract.AttrGamedayDrill); ok {
			continue
		}
		svc := str(res.Get("service.name"))
		slis := s.spanSLOs[svc]
		if len(slis) == 0 {
			if len(s.discovered) > 0 && svc != "" && !s.explicit[svc] {
				s.feedDiscovered(b, rs, svc, now, limit)
			}
			continue
		}
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				s.feedSpan(b, spans.At(k), slis, now, limit)
			}
		}
	}
}

// consumeDrills counts the spans marked for a game day in the game-day
// instances (gameday.go), an in-memory engine outside the request's batch
// and the journal; called once the pipeline accepted the request, as the
// real SLOs count, so a refused drill request is not counted twice.
func (s *runner) consumeDrills(td ptrace.Traces) {
	now := s.now()
	limit := now.Add(s.cfg.MaxFutureSkew)
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		if drill, ok := rs.Resource().Attributes().Get(contract.AttrGamedayDrill); ok {
			s.gameday.consume(s, rs, drill.AsString(), now, limit)
		}
	}
}

// serverOrConsumer: only server and consumer spans are SLI events.
func serverOrConsumer(sp ptrace.Span) bool {
	kind := sp.Kind()
	return kind == ptrace.SpanKindServer || kind == ptrace.SpanKindConsumer
}

// feedSpan counts one span in every SLI of its service (slis) it matches.
func (s *runner) feedSpan(b *sloengine.Batch, sp ptrace.Span, slis []compiledSLO, now, limit time.Time) {
	if !serverOrConsumer(sp) {
		return
	}
	route := str(sp.Attributes().Get("http.route"))
	for i := range slis {
		c := &slis[i]
		if !c.spanName.match(sp.Name()) || !c.spanRoute.match(route) {
			continue
		}
		if end, bad, ok := s.spanEvent(c.spec.SLI.Spans, sp, limit); ok {
			b.AddEvents(s.engine.Instance(c.idx, sloengine.HashSeed, nil, now), end, 1, bad)
		}
	}
}

// spanEvent is the event of one matched server or consumer span: its end
// time and whether it is bad (1) as the SLI says. A span ending beyond
// limit is no event (ok false) and is counted.
func (s *runner) spanEvent(sli *spec.SpanSLI, sp ptrace.Span, limit time.Time) (end time.Time, bad float64, ok bool) {
	end = sp.EndTimestamp().AsTime()
	if end.After(limit) {
		s.own.future.Add(1)
		return end, 0, false
	}
	d := time.Duration(sp.EndTimestamp() - sp.StartTimestamp())
	if match.SpanBad(sli, sp.Status().Code() == ptrace.StatusCodeError, spanStatus(sp.Attributes()), d) {
		bad = 1
	}
	return end, bad, true
}

// point is one metric data point being matched: its attributes, the
// resource's, the resource's Prometheus job, and the series hash prefix
// (resource, scope, metric name).
type point struct {
	attrs, res pcommon.Map
	job        string
	prefix     uint64
	start, ts  pcommon.Timestamp
	cumulative bool
}

// get returns label k of the point: a point attribute, else a resource
// attribute, else Prometheus' own name for a resource attribute: "job"
// and "instance" are what Prometheus calls the target that the prometheus
// receiver (and OTLP ingestion) turn into service.name (with
// service.namespace) and service.instance.id, so an SLO written for
// Prometheus (job="api") matches the same series here.
func (p *point) get(k string) string {
	if v, ok := p.attrs.Get(k); ok {
		return str(v, true)
	}
	if v, ok := p.res.Get(k); ok {
		return str(v, true)
	}
	switch k {
	case labelJob:
		return p.job
	case labelInstance:
		return str(p.res.Get(attrServiceInstanceID))
	}
	return ""
}

// Prometheus' target labels and the resource attributes they come from.
const (
	labelJob              = "job"
	labelInstance         = "instance"
	attrServiceName       = "service.name"
	attrServiceNamespace  = "service.namespace"
	attrServiceInstanceID = "service.instance.id"
)

// promJob is the job label Prometheus gives a resource:
// "<service.namespace>/<service.name>", or service.name alone.
func promJob(res pcommon.Map) string {
	name := str(res.Get(attrServiceName))
	if ns := str(res.Get(attrServiceNamespace)); ns != "" {
		return ns + "/" + name
	}
	return name
}

// scanMetrics reads the monotonic sums and histograms of metric SLIs into b.
func (s *runner) scanMetrics(b *sloengine.Batch, md pmetric.Metrics) {
	now := s.now()
	limit := pcommon.NewTimestampFromTime(now.Add(s.cfg.MaxFutureSkew))
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		res := rm.Resource().Attributes()
		job := promJob(res)
		rh := hashMap(sloengine.HashSeed, res)
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			sm := sms.At(j)
			sh := sloengine.HashString(rh, sm.Scope().Name())
			ms := sm.Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				p := point{res: res, job: job, prefix: sloengine.HashString(sh, m.Name())}
				s.feedMetric(b, m, &p, now, limit)
			}
		}
	}
}

func (s *runner) feedMetric(b *sloengine.Batch, m pmetric.Metric, p *point, now time.Time, limit pcommon.Timestamp) {
	name := m.Name()
	switch m.Type() {
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		if !sum.IsMonotonic() {
			return
		}
		p.cumulative = sum.AggregationTemporality() == pmetric.AggregationTemporalityCumulative
		dps := sum.DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			v := dp.DoubleValue()
			if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
				v = float64(dp.IntValue())
			}
			if !s.admit(p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), limit) {
				continue
			}
			s.feedSum(b, name, p, v, now)
		}
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		p.cumulative = h.AggregationTemporality() == pmetric.AggregationTemporalityCumulative
		dps := h.DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			if !s.admit(p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), limit) {
				continue
			}
			s.feedHistogram(b, name, p, now, func(l *spec.MetricLatency) (uint64, bool) {
				return sloengine.ExplicitBad(dp.ExplicitBounds(), dp.BucketCounts(), l.Threshold)
			}, dp.Count(), dp.ExplicitBounds())
		}
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		p.cumulative = h.AggregationTemporality() == pmetric.AggregationTemporalityCumulative
		dps := h.DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			if !s.admit(p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), limit) {
				continue
			}
			s.feedHistogram(b, name, p, now, func(l *spec.MetricLatency) (uint64, bool) {
				pos := dp.Positive()
				return sloengine.ExponentialBad(dp.Scale(), pos.Offset(), pos.BucketCounts(), l.Threshold), true
			}, dp.Count(), pcommon.NewFloat64Slice())
		}
	}
}

// admit points p at a data point's attributes and times; a point stamped
// after limit is counted as from the future and not admitted.
func (s *runner) admit(p *point, attrs pcommon.Map, start, ts, limit pcommon.Timestamp) bool {
	p.attrs, p.start, p.ts = attrs, start, ts
	if ts > limit {
		s.own.future.Add(1)
		return false
	}
	return true
}

// feedSum matches one sum point against ratio SLIs and the Prometheus
// style "_count" / "_bucket{le}" series of latency SLIs.
func (s *runner) feedSum(b *sloengine.Batch, name string, p *point, v float64, now time.Time) {
	for _, c := range s.slos {
		var total, bad float64
		var groupBy []string
		switch {
		case c.spec.SLI.Metric != nil:
			isTotal, isBad := match.Ratio(c.spec.SLI.Metric, name, p.get)
			if !isTotal && !isBad {
				continue
			}
			if isTotal {
				total = v
			}
			if isBad {
				bad = v
			}
			groupBy = c.spec.SLI.Metric.GroupBy
		case c.spec.SLI.Latency != nil:
			switch match.Latency(c.spec.SLI.Latency, name, p.get) {
			case match.LatencyCount:
				total, bad = v, v
			case match.LatencyGood:
				bad = -v
			default:
				continue
			}
			groupBy = c.spec.SLI.Latency.GroupBy
		default:
			continue
		}
		s.add(b, c, groupBy, p, total, bad, now)
	}
}

// feedHistogram matches one OTel histogram point against latency SLIs;
// above computes the observations over the SLI's threshold.
func (s *runner) feedHistogram(b *sloengine.Batch, name string, p *point, now time.Time, above func(*spec.MetricLatency) (uint64, bool), count uint64, bounds pcommon.Float64Slice) {
	for _, c := range s.slos {
		l := c.spec.SLI.Latency
		if l == nil || match.Latency(l, name, p.get) != match.LatencyHistogram {
			continue
		}
		bad, ok := above(l)
		if !ok {
			s.own.badBoundary.Add(1)
			if _, logged := s.boundaryLogged.LoadOrStore(c.spec.Name, true); !logged {
				s.logger.Warn("latency points dropped", zap.Error(sloengine.BoundaryError(c.spec.Name, bounds, l.Threshold)))
			}
			continue
		}
		s.add(b, c, l.GroupBy, p, float64(count), float64(bad), now)
	}
}

// add records one matched point in b, in the instance of its group.
func (s *runner) add(b *sloengine.Batch, c compiledSLO, groupBy []string, p *point, total, bad float64, now time.Time) {
	gh := sloengine.HashSeed
	for _, g := range groupBy {
		gh = sloengine.HashString(sloengine.HashString(gh, p.get(g)), "\xff")
	}
	var group func() map[string]string
	if len(groupBy) > 0 {
		group = func() map[string]string {
			m := make(map[string]string, len(groupBy))
			for _, g := range groupBy {
				m[g] = p.get(g)
			}
			return m
		}
	}
	in := s.engine.Instance(c.idx, gh, group, now)
	if in.Overflow() {
		s.overflowed(c, 1)
	}
	sh := hashMap(p.prefix, p.attrs)
	var start time.Time
	if p.start != 0 {
		start = p.start.AsTime()
	}
	if p.cumulative {
		b.AddCumulative(in, sh, start, p.ts.AsTime(), total, bad)
	} else {
		b.AddDelta(in, sh, start, p.ts.AsTime(), total, bad)
	}
}
