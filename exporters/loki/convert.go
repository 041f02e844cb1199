package loki

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/loki/pkg/push"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

const (
	// TenantAttribute is the resource attribute naming the Loki tenant
	// (set by the lokipush receiver from X-Scope-OrgID).
	TenantAttribute = "loki.tenant"
	// ObsdTenantAttribute is the resource attribute the tenant processor
	// writes (the authenticated tenant); it comes before TenantAttribute.
	ObsdTenantAttribute = "obsd.tenant"
	// levelKey is the configured label key filled from the record severity
	// when no attribute of that name exists.
	levelKey = "level"
	// fallbackLabel is used when a record yields no label at all, since Loki
	// refuses streams without labels.
	fallbackLabel = "service_name"
	fallbackValue = "unknown_service"
)

// labelSpec is one configured label: the attribute key looked up and the
// Loki label name it becomes.
type labelSpec struct {
	key  string
	name string
}

// labelName turns an attribute key into a Loki label name: every character
// outside [a-zA-Z0-9_] becomes '_', and a leading digit gets a '_' prefix.
func labelName(key string) string {
	var b strings.Builder
	for i, c := range key {
		switch {
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			b.WriteRune(c)
		case c >= '0' && c <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// newLabelSpecs precomputes the label names, sorted by label name so that
// stream label strings come out sorted.
func newLabelSpecs(keys []string) []labelSpec {
	specs := make([]labelSpec, 0, len(keys))
	for _, k := range keys {
		specs = append(specs, labelSpec{key: k, name: labelName(k)})
	}
	slices.SortFunc(specs, func(a, b labelSpec) int { return strings.Compare(a.name, b.name) })
	return specs
}

// tenantGroup is the part of a plog.Logs going to one tenant.
type tenantGroup struct {
	tenant    string
	resources []int // indices into ResourceLogs
}

// tenantSpec says where a resource's tenant comes from.
type tenantSpec struct {
	fixed string   // tenant_id: every resource's tenant when set
	attrs []string // tenant_attributes: the first one present names the tenant
	def   string   // default_tenant: the tenant of resources without one
	// mapping is tenant_map: the X-Scope-OrgID of a tenant name.
	mapping map[string]string
}

// groupByTenant splits resources by tenant: the fixed tenant when set, else
// the first of the tenant attributes a resource has (non-empty), else the
// default ("" means no X-Scope-OrgID); a name in the tenant map is replaced
// by its id, so names sharing an id share a push.
func groupByTenant(ld plog.Logs, spec tenantSpec) []tenantGroup {
	rls := ld.ResourceLogs()
	var groups []tenantGroup
	for i := 0; i < rls.Len(); i++ {
		tenant := spec.fixed
		if tenant == "" {
			tenant = resourceTenant(rls.At(i).Resource().Attributes(), spec)
			if id, ok := spec.mapping[tenant]; ok && tenant != "" {
				tenant = id
			}
		}
		j := slices.IndexFunc(groups, func(g tenantGroup) bool { return g.tenant == tenant })
		if j < 0 {
			groups = append(groups, tenantGroup{tenant: tenant})
			j = len(groups) - 1
		}
		groups[j].resources = append(groups[j].resources, i)
	}
	return groups
}

// resourceTenant is the first non-empty tenant attribute, or the default.
func resourceTenant(attrs pcommon.Map, spec tenantSpec) string {
	for _, k := range spec.attrs {
		if v, ok := attrs.Get(k); ok {
			if s := v.AsString(); s != "" {
				return s
			}
		}
	}
	return spec.def
}

// subset copies the given resources into a new plog.Logs.
func subset(ld plog.Logs, resources []int) plog.Logs {
	out := plog.NewLogs()
	for _, i := range resources {
		ld.ResourceLogs().At(i).CopyTo(out.ResourceLogs().AppendEmpty())
	}
	return out
}

// converter builds Loki push requests from pdata. It is not safe for
// concurrent use; it keeps buffers between records.
type converter struct {
	specs   []labelSpec
	isLabel map[string]bool // attribute keys consumed as labels
	now     func() time.Time

	values  []string // per spec, the value found for the current record
	key     []byte   // label string being built
	streams map[string]int
}

// newConverter builds a converter promoting keys to labels; the tenant
// attributes become neither labels nor structured metadata.
func newConverter(keys []string, tenantAttrs ...string) *converter {
	c := &converter{specs: newLabelSpecs(keys), isLabel: map[string]bool{TenantAttribute: true}, now: time.Now}
	for _, k := range tenantAttrs {
		c.isLabel[k] = true
	}
	for _, s := range c.specs {
		c.isLabel[s.key] = true
	}
	c.values = make([]string, len(c.specs))
	return c
}

// build converts the given resources into one PushRequest and returns it
// with its number of lines. Streams are keyed by their label string, entries
// sorted by timestamp within each stream.
func (c *converter) build(ld plog.Logs, resources []int) (*push.PushRequest, int) {
	req := &push.PushRequest{}
	c.streams = make(map[string]int)
	lines := 0
	for _, i := range resources {
		rl := ld.ResourceLogs().At(i)
		res := rl.Resource().Attributes()
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				c.appendRecord(req, res, lrs.At(k))
				lines++
			}
		}
	}
	for i := range req.Streams {
		slices.SortStableFunc(req.Streams[i].Entries, func(a, b push.Entry) int { return a.Timestamp.Compare(b.Timestamp) })
	}
	return req, lines
}

func (c *converter) appendRecord(req *push.PushRequest, res pcommon.Map, lr plog.LogRecord) {
	key := c.labelString(res, lr)
	idx, ok := c.streams[string(key)]
	if !ok {
		idx = len(req.Streams)
		labels := string(key)
		c.streams[labels] = idx
		req.Streams = append(req.Streams, push.Stream{Labels: labels})
	}
	req.Streams[idx].Entries = append(req.Streams[idx].Entries, push.Entry{
		Timestamp:          c.timestamp(lr),
		Line:               lr.Body().AsString(),
		StructuredMetadata: c.metadata(res, lr),
	})
}

// labelString renders the record's labels as `{a="b", c="d"}`, sorted.
func (c *converter) labelString(res pcommon.Map, lr plog.LogRecord) []byte {
	n := 0
	for i, s := range c.specs {
		c.values[i] = ""
		if v, ok := lr.Attributes().Get(s.key); ok {
			c.values[i] = v.AsString()
		} else if v, ok := res.Get(s.key); ok {
			c.values[i] = v.AsString()
		} else if s.key == levelKey {
			c.values[i] = severityLevel(lr)
		}
		if c.values[i] != "" {
			n++
		}
	}
	c.key = append(c.key[:0], '{')
	if n == 0 {
		c.key = append(c.key, fallbackLabel+`="`+fallbackValue+`"}`...)
		return c.key
	}
	first := true
	for i, s := range c.specs {
		if c.values[i] == "" {
			continue
		}
		if !first {
			c.key = append(c.key, ", "...)
		}
		first = false
		c.key = append(c.key, s.name...)
		c.key = append(c.key, '=')
		c.key = strconv.AppendQuote(c.key, c.values[i])
	}
	return append(c.key, '}')
}

// metadata is everything that is not a label: trace and span ids, record
// attributes, then resource attributes.
func (c *converter) metadata(res pcommon.Map, lr plog.LogRecord) push.LabelsAdapter {
	md := make(push.LabelsAdapter, 0, 2+lr.Attributes().Len()+res.Len())
	if tid := lr.TraceID(); !tid.IsEmpty() {
		md = append(md, push.LabelAdapter{Name: "trace_id", Value: tid.String()})
	}
	if sid := lr.SpanID(); !sid.IsEmpty() {
		md = append(md, push.LabelAdapter{Name: "span_id", Value: sid.String()})
	}
	lr.Attributes().Range(func(k string, v pcommon.Value) bool {
		if !c.isLabel[k] {
			md = append(md, push.LabelAdapter{Name: k, Value: v.AsString()})
		}
		return true
	})
	res.Range(func(k string, v pcommon.Value) bool {
		if !c.isLabel[k] && !hasName(md, k) {
			md = append(md, push.LabelAdapter{Name: k, Value: v.AsString()})
		}
		return true
	})
	if len(md) == 0 {
		return nil
	}
	return md
}

func hasName(md push.LabelsAdapter, name string) bool {
	for _, l := range md {
		if l.Name == name {
			return true
		}
	}
	return false
}

// timestamp is the record time, else the observed time, else now.
func (c *converter) timestamp(lr plog.LogRecord) time.Time {
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime()
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return ts.AsTime()
	}
	return c.now()
}

// severityLevel is the Loki level for a record: its severity text in lower
// case, else a name derived from its severity number, else "".
func severityLevel(lr plog.LogRecord) string {
	if t := lr.SeverityText(); t != "" {
		return strings.ToLower(t)
	}
	switch n := lr.SeverityNumber(); {
	case n == plog.SeverityNumberUnspecified:
		return ""
	case n <= plog.SeverityNumberTrace4:
		return "trace"
	case n <= plog.SeverityNumberDebug4:
		return "debug"
	case n <= plog.SeverityNumberInfo4:
		return "info"
	case n <= plog.SeverityNumberWarn4:
		return "warn"
	case n <= plog.SeverityNumberError4:
		return "error"
	default:
		return "fatal"
	}
}

// fork returns a converter sharing c's read-only label specs with its own
// buffers, for one push.
func (c *converter) fork() *converter {
	return &converter{specs: c.specs, isLabel: c.isLabel, now: c.now, values: make([]string, len(c.specs))}
}

// Per-item protobuf overheads, rounded up: an entry's tags, lengths and
// timestamp, and one structured-metadata pair's.
const (
	entryOverhead    = 32
	metadataOverhead = 8
)

// split divides the records of the given resources, in order, into parts
// whose push requests stay within limit bytes. A record's size is counted
// from above (its stream labels as if it were alone in its stream), so a
// part's request is at most limit; a record larger than limit on its own
// is a part by itself, for the backend to refuse alone.
func (c *converter) split(ld plog.Logs, resources []int, limit int) []plog.Logs {
	var parts []plog.Logs
	var cur plog.Logs
	var curRes plog.ResourceLogs
	var curScope plog.ScopeLogs
	size, lastRes, lastScope := 0, -1, -1
	for _, i := range resources {
		rl := ld.ResourceLogs().At(i)
		res := rl.Resource().Attributes()
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				lr := sl.LogRecords().At(k)
				n := c.recordSize(res, lr)
				if size == 0 || size+n > limit {
					cur = plog.NewLogs()
					parts = append(parts, cur)
					size, lastRes, lastScope = 0, -1, -1
				}
				if lastRes != i {
					curRes = cur.ResourceLogs().AppendEmpty()
					rl.Resource().CopyTo(curRes.Resource())
					curRes.SetSchemaUrl(rl.SchemaUrl())
					lastRes, lastScope = i, -1
				}
				if lastScope != j {
					curScope = curRes.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(curScope.Scope())
					curScope.SetSchemaUrl(sl.SchemaUrl())
					lastScope = j
				}
				lr.CopyTo(curScope.LogRecords().AppendEmpty())
				size += n
			}
		}
	}
	return parts
}

// recordSize bounds from above what one record adds to a push request.
func (c *converter) recordSize(res pcommon.Map, lr plog.LogRecord) int {
	n := entryOverhead + len(c.labelString(res, lr)) + len(lr.Body().AsString())
	for _, md := range c.metadata(res, lr) {
		n += metadataOverhead + len(md.Name) + len(md.Value)
	}
	return n
}

// allResources lists every resource index of ld.
func allResources(ld plog.Logs) []int {
	idx := make([]int, ld.ResourceLogs().Len())
	for i := range idx {
		idx[i] = i
	}
	return idx
}
