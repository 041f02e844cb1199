package correlation

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/obsd-dev/obsd/processors/correlation/internal/ids"
)

// lookup is the precomputed form of keys, sources and correlation keys:
// one Matcher with every field name (slots), and the key entries in order.
type lookup struct {
	matcher       *ids.Matcher // id keys and correlation keys
	corrMatcher   *ids.Matcher // correlation keys only
	entries       []entry
	corrSlots     []int // correlation key slots in matcher
	corrOnlySlots []int // the same keys' slots in corrMatcher
	attrsFirst    bool
	useAttrs      bool
	useBody       bool
}

// entry is a KeyConfig resolved to matcher slots.
type entry struct {
	format string
	trace  int
	span   int // -1 when none
	label  string
}

func newLookup(cfg *Config) *lookup {
	var keys []ids.Key
	slot := func(name string, ci bool) int {
		for i, k := range keys {
			if k.Name == name && k.CaseInsensitive == ci {
				return i
			}
		}
		keys = append(keys, ids.Key{Name: name, CaseInsensitive: ci})
		return len(keys) - 1
	}
	lk := &lookup{}
	for _, k := range cfg.Keys {
		e := entry{format: k.Format, trace: slot(k.Trace, k.CaseInsensitive), span: -1, label: k.Trace}
		if k.Span != "" {
			e.span = slot(k.Span, k.CaseInsensitive)
		}
		lk.entries = append(lk.entries, e)
	}
	var corrKeys []ids.Key
	for _, name := range cfg.CorrelationKeys {
		lk.corrSlots = append(lk.corrSlots, slot(name, true))
		corrKeys = append(corrKeys, ids.Key{Name: name, CaseInsensitive: true})
		lk.corrOnlySlots = append(lk.corrOnlySlots, len(corrKeys)-1)
	}
	lk.matcher = ids.NewMatcher(keys)
	lk.corrMatcher = ids.NewMatcher(corrKeys)
	for i, s := range cfg.Sources {
		switch s {
		case SourceAttributes:
			lk.useAttrs = true
			lk.attrsFirst = lk.attrsFirst || i == 0
		case SourceBody:
			lk.useBody = true
		}
	}
	return lk
}

func (lk *lookup) hasCorrelation() bool { return len(lk.corrSlots) > 0 }

// sourceLabels are the `source` label values of lifted records, one per entry.
func (lk *lookup) sourceLabels() []string {
	out := make([]string, len(lk.entries))
	for i, e := range lk.entries {
		out[i] = e.label
	}
	return out
}

// scanRecord records into f the values m's keys have in the record's
// attributes and body, in the configured source order (first wins).
func (lk *lookup) scanRecord(lr plog.LogRecord, m *ids.Matcher, f *ids.Found) {
	if lk.useAttrs && lk.attrsFirst {
		scanMap(lr.Attributes(), ids.Path{}, m, f)
	}
	if lk.useBody {
		scanBody(lr.Body(), m, f)
	}
	if lk.useAttrs && !lk.attrsFirst {
		scanMap(lr.Attributes(), ids.Path{}, m, f)
	}
}

func scanBody(body pcommon.Value, m *ids.Matcher, f *ids.Found) {
	switch body.Type() {
	case pcommon.ValueTypeMap:
		scanMap(body.Map(), ids.Path{}, m, f)
	case pcommon.ValueTypeStr:
		s := body.Str()
		if ids.LooksLikeJSONObject(s) {
			ids.ScanJSON(s, m, f)
		} else {
			ids.ScanLogfmt(s, m, f)
		}
	}
}

// scanMap walks an attribute map (and nested maps where a key names a
// path below them). String values do not allocate; other scalars are
// formatted; a slice contributes its first element (header attributes).
func scanMap(attrs pcommon.Map, p ids.Path, m *ids.Matcher, f *ids.Found) {
	for k, v := range attrs.All() {
		kp, ok := p.Push(k)
		if !ok {
			return
		}
		switch v.Type() {
		case pcommon.ValueTypeMap:
			if m.IsPrefix(kp) {
				scanMap(v.Map(), kp, m, f)
			}
		case pcommon.ValueTypeStr:
			if i := m.Match(kp); i >= 0 {
				f.Put(i, v.Str())
			}
		case pcommon.ValueTypeSlice:
			if i := m.Match(kp); i >= 0 && v.Slice().Len() > 0 {
				f.Put(i, v.Slice().At(0).AsString())
			}
		case pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
			if i := m.Match(kp); i >= 0 {
				f.Put(i, v.AsString())
			}
		}
	}
}

// resolution is the outcome of resolve: the first valid entry, or the
// reason the first invalid one failed.
type resolution struct {
	ids    ids.IDs
	entry  int
	reason ids.Reason
}

// resolve parses the found values entry by entry, in order.
func (lk *lookup) resolve(f *ids.Found) resolution {
	out := resolution{entry: -1}
	for i, e := range lk.entries {
		tv, ok := f.Get(e.trace)
		if !ok {
			continue
		}
		var sv string
		if e.span >= 0 {
			sv, _ = f.Get(e.span)
		}
		got, r := parse(e.format, tv, sv)
		if r == ids.ReasonNone {
			return resolution{ids: got, entry: i}
		}
		if out.reason == ids.ReasonNone {
			out.reason = r
		}
	}
	return out
}

func parse(format, trace, span string) (ids.IDs, ids.Reason) {
	switch format {
	case FormatTraceparent:
		return ids.ParseTraceparent(trace)
	case FormatB3:
		return ids.ParseB3Single(trace)
	case FormatJaeger:
		return ids.ParseUberTraceID(trace)
	case FormatDatadog:
		return ids.ParseDatadog(trace, span)
	default:
		return ids.ParseHexPair(trace, span)
	}
}
