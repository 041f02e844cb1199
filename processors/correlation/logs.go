package correlation

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"

	"github.com/obsd-dev/obsd/processors/correlation/internal/ids"
)

// Attributes the tag action sets.
const (
	TagAttribute       = "obsd.correlation"
	TagSourceAttribute = "obsd.correlation.source"
	TagReasonAttribute = "obsd.correlation.reason"
)

// maxCorrelationValue bounds the length of a normalised correlation id.
const maxCorrelationValue = 256

type logsProcessor struct {
	lk       *lookup
	policies []policy // default last
	route    RouteConfig
	corrAttr string
	index    *orphanIndex
	tel      *telemetry
	now      func() time.Time
}

// policy is the runtime form of a PolicyConfig.
type policy struct {
	match      []attrMatch
	action     string
	exemptFrom plog.SeverityNumber // 0: no exemption
}

type attrMatch struct {
	key    string
	values []string
}

func newLogsProcessor(set processor.Settings, cfg *Config, idx *orphanIndex) (*logsProcessor, error) {
	lk := newLookup(cfg)
	pols, names := buildPolicies(cfg)
	tel, err := newTelemetry(set.TelemetrySettings, lk.sourceLabels(), names, cfg.MaxServices, true)
	if err != nil {
		return nil, err
	}
	return &logsProcessor{
		lk: lk, policies: pols, route: cfg.Route, corrAttr: cfg.CorrelationAttribute,
		index: idx, tel: tel, now: time.Now,
	}, nil
}

func buildPolicies(cfg *Config) ([]policy, []string) {
	all := append(append([]PolicyConfig(nil), cfg.Policies...), cfg.DefaultPolicy)
	pols := make([]policy, len(all))
	names := make([]string, len(all))
	for i, pc := range all {
		sev, _ := parseSeverity(pc.ExemptMinSeverity)
		pols[i] = policy{action: pc.Action, exemptFrom: plog.SeverityNumber(sev)}
		for k, v := range pc.Match {
			pols[i].match = append(pols[i].match, attrMatch{key: k, values: v})
		}
		names[i] = pc.Name
		if names[i] == "" {
			names[i] = "default"
		}
	}
	return pols, names
}

// selectPolicy returns the index of the first policy whose match holds
// for the resource; the default policy is last and matches everything.
func (p *logsProcessor) selectPolicy(res pcommon.Map) int {
	for i, pol := range p.policies {
		if pol.matches(res) {
			return i
		}
	}
	return len(p.policies) - 1
}

func (pol *policy) matches(res pcommon.Map) bool {
	for _, m := range pol.match {
		v, ok := res.Get(m.key)
		if !ok {
			return false
		}
		s := v.Str()
		found := false
		for _, want := range m.values {
			if s == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (p *logsProcessor) shutdown() { p.tel.shutdown() }

// recordState is the per-batch context of processRecord.
type recordState struct {
	pol    *policy
	polIdx int
	now    int64
	c      counts
	found  ids.Found
}

func (p *logsProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	st := &recordState{}
	if p.index != nil {
		st.now = p.now().UnixNano()
	}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource().Attributes()
		svc := p.tel.service(serviceName(res))
		st.polIdx = p.selectPolicy(res)
		st.pol = &p.policies[st.polIdx]
		st.c = counts{}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			if st.pol.action == ActionDrop {
				lrs.RemoveIf(func(lr plog.LogRecord) bool { return p.processRecord(lr, st) })
				continue
			}
			for k := 0; k < lrs.Len(); k++ {
				p.processRecord(lrs.At(k), st)
			}
		}
		p.tel.flush(ctx, svc, st.polIdx, &st.c)
	}
	return ld, nil
}

func serviceName(res pcommon.Map) string {
	if v, ok := res.Get("service.name"); ok {
		return v.Str()
	}
	return ""
}

// processRecord classifies one record, lifts ids when it can, applies the
// policy action and reports whether the record is to be dropped.
func (p *logsProcessor) processRecord(lr plog.LogRecord, st *recordState) bool {
	c := &st.c
	if !lr.TraceID().IsEmpty() {
		c.outcome[outcomePresent]++
		if p.lk.hasCorrelation() {
			p.normaliseCorrelation(lr, st, p.lk.corrMatcher, p.lk.corrOnlySlots)
		}
		p.checkOrphan(lr.TraceID(), st)
		return p.applyAction(lr, st, outcomePresent, "")
	}
	f := &st.found
	f.Reset()
	p.lk.scanRecord(lr, p.lk.matcher, f)
	res := p.lk.resolve(f)
	if p.lk.hasCorrelation() {
		p.setCorrelation(lr, f, p.lk.corrSlots)
	}
	switch {
	case res.reason == ids.ReasonNone && res.entry >= 0:
		lr.SetTraceID(pcommon.TraceID(res.ids.Trace))
		if res.ids.HasSpan {
			lr.SetSpanID(pcommon.SpanID(res.ids.Span))
		}
		if res.ids.HasFlags {
			lr.SetFlags(plog.DefaultLogRecordFlags.WithIsSampled(res.ids.Flags&1 == 1))
		}
		c.outcome[outcomeLifted]++
		c.lifted[res.entry]++
		if res.ids.Upper {
			c.upper++
		}
		if res.ids.Padded {
			c.padded++
		}
		p.checkOrphan(lr.TraceID(), st)
		return p.applyAction(lr, st, outcomeLifted, p.lk.entries[res.entry].label)
	case res.reason != ids.ReasonNone:
		c.outcome[outcomeInvalid]++
		c.reasons[res.reason]++
		return p.applyAction(lr, st, outcomeInvalid, res.reason.String())
	default:
		c.outcome[outcomeMissing]++
		return p.applyAction(lr, st, outcomeMissing, "")
	}
}

func (p *logsProcessor) checkOrphan(id pcommon.TraceID, st *recordState) {
	if p.index != nil && !p.index.contains(id, st.now) {
		st.c.orphans++
	}
}

// applyAction runs the policy action; it returns true to drop the record.
// Records at or above the exemption severity are only counted. detail is
// the source of a lifted record or the reason of an invalid one.
func (p *logsProcessor) applyAction(lr plog.LogRecord, st *recordState, outcome int, detail string) bool {
	pol := st.pol
	if pol.action == ActionObserve {
		return false
	}
	if pol.action == ActionTag {
		attrs := lr.Attributes()
		attrs.PutStr(TagAttribute, outcomeNames[outcome])
		switch {
		case outcome == outcomeLifted:
			attrs.PutStr(TagSourceAttribute, detail)
		case outcome == outcomeInvalid:
			attrs.PutStr(TagReasonAttribute, detail)
		}
		return false
	}
	if outcome == outcomePresent || outcome == outcomeLifted {
		return false
	}
	if pol.exemptFrom > 0 && lr.SeverityNumber() >= pol.exemptFrom {
		return false
	}
	if pol.action == ActionDrop {
		st.c.dropped++
		return true
	}
	lr.Attributes().PutStr(p.route.Attribute, p.route.Value)
	st.c.routed++
	return false
}

// normaliseCorrelation looks for correlation keys on a record that already
// carries ids: attributes, and string bodies that look structured.
func (p *logsProcessor) normaliseCorrelation(lr plog.LogRecord, st *recordState, m *ids.Matcher, slots []int) {
	attrs := lr.Attributes()
	if _, ok := attrs.Get(p.corrAttr); ok {
		return
	}
	f := &st.found
	f.Reset()
	p.lk.scanRecord(lr, m, f)
	p.setCorrelation(lr, f, slots)
}

// setCorrelation writes the first correlation key found, trimmed and
// bounded, into the correlation attribute unless it is already set.
func (p *logsProcessor) setCorrelation(lr plog.LogRecord, f *ids.Found, slots []int) {
	for _, s := range slots {
		v, ok := f.Get(s)
		if !ok {
			continue
		}
		v = normaliseCorrelationValue(v)
		if v == "" {
			continue
		}
		attrs := lr.Attributes()
		if _, exists := attrs.Get(p.corrAttr); !exists {
			attrs.PutStr(p.corrAttr, v)
		}
		return
	}
}

func normaliseCorrelationValue(v string) string {
	start, end := 0, len(v)
	for start < end && (v[start] == ' ' || v[start] == '\t' || v[start] == '"') {
		start++
	}
	for end > start && (v[end-1] == ' ' || v[end-1] == '\t' || v[end-1] == '"') {
		end--
	}
	if end-start > maxCorrelationValue {
		end = start + maxCorrelationValue
	}
	return v[start:end]
}
