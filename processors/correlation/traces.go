package correlation

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"

	"github.com/obsd-dev/obsd/processors/correlation/internal/ids"
)

// tracesProcessor normalises correlation keys on spans into the
// correlation attribute and feeds the shared orphan index.
type tracesProcessor struct {
	lk       *lookup
	corrAttr string
	index    *orphanIndex
	tel      *telemetry
	now      func() time.Time
}

func newTracesProcessor(set processor.Settings, cfg *Config, idx *orphanIndex) (*tracesProcessor, error) {
	lk := newLookup(cfg)
	_, names := buildPolicies(cfg)
	tel, err := newTelemetry(set.TelemetrySettings, lk.sourceLabels(), names, cfg.MaxServices, false)
	if err != nil {
		return nil, err
	}
	return &tracesProcessor{lk: lk, corrAttr: cfg.CorrelationAttribute, index: idx, tel: tel, now: time.Now}, nil
}

const (
	spanPresent = iota
	spanNormalized
	spanMissing
)

func (p *tracesProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	var now int64
	if p.index != nil {
		now = p.now().UnixNano()
	}
	var f ids.Found
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		svc := p.tel.service(serviceName(rs.Resource().Attributes()))
		var c counts
		sss := rs.ScopeSpans()
		if p.index != nil {
			p.index.mu.Lock()
		}
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				if p.index != nil && !span.TraceID().IsEmpty() {
					p.index.addLocked(span.TraceID(), now)
				}
				if p.lk.hasCorrelation() {
					c.spans[p.normalise(span, &f)]++
				}
			}
		}
		if p.index != nil {
			p.index.mu.Unlock()
		}
		p.tel.flush(ctx, svc, 0, &c)
	}
	return td, nil
}

// normalise copies the first correlation key found on the span's
// attributes into the correlation attribute, as the logs side does.
func (p *tracesProcessor) normalise(span ptrace.Span, f *ids.Found) int {
	attrs := span.Attributes()
	if _, ok := attrs.Get(p.corrAttr); ok {
		return spanPresent
	}
	f.Reset()
	scanMap(attrs, ids.Path{}, p.lk.corrMatcher, f)
	for _, s := range p.lk.corrOnlySlots {
		if v, ok := f.Get(s); ok {
			if v = normaliseCorrelationValue(v); v != "" {
				attrs.PutStr(p.corrAttr, v)
				return spanNormalized
			}
		}
	}
	return spanMissing
}
