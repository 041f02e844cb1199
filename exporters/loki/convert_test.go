package loki

import (
	"strings"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

var (
	traceID = pcommon.TraceID([16]byte{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c})
	spanID  = pcommon.SpanID([8]byte{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31})
	t0      = time.Unix(1_700_000_000, 123_456_789).UTC()
)

// oneRecord builds logs with one resource and one record, for mutation.
func oneRecord(res map[string]any, edit func(lr plog.LogRecord)) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	_ = rl.Resource().Attributes().FromRaw(res)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(t0))
	lr.Body().SetStr("hello")
	if edit != nil {
		edit(lr)
	}
	return ld
}

func TestBuildStreams(t *testing.T) {
	tests := []struct {
		name     string
		labels   []string
		ld       plog.Logs
		labelsIs string
		metadata push.LabelsAdapter
	}{
		{
			name:   "configured resource attributes become sorted labels and the rest structured metadata",
			labels: DefaultLabels,
			ld: oneRecord(map[string]any{"service.name": "checkout", "k8s.namespace.name": "shop", "k8s.pod.name": "p-1"}, func(lr plog.LogRecord) {
				lr.SetSeverityNumber(plog.SeverityNumberWarn)
				lr.SetTraceID(traceID)
				lr.SetSpanID(spanID)
				lr.Attributes().PutStr("user", "42")
			}),
			labelsIs: `{k8s_namespace_name="shop", level="warn", service_name="checkout"}`,
			metadata: push.LabelsAdapter{
				{Name: "trace_id", Value: "0af7651916cd43dd8448eb211c80319c"},
				{Name: "span_id", Value: "b7ad6b7169203331"},
				{Name: "user", Value: "42"},
				{Name: "k8s.pod.name", Value: "p-1"},
			},
		},
		{
			name:     "severity text wins over severity number for level, lower-cased",
			labels:   []string{"level"},
			ld:       oneRecord(nil, func(lr plog.LogRecord) { lr.SetSeverityText("ERROR"); lr.SetSeverityNumber(plog.SeverityNumberInfo) }),
			labelsIs: `{level="error"}`,
		},
		{
			name:     "a level attribute wins over the severity",
			labels:   []string{"level"},
			ld:       oneRecord(nil, func(lr plog.LogRecord) { lr.SetSeverityText("INFO"); lr.Attributes().PutStr("level", "debug") }),
			labelsIs: `{level="debug"}`,
		},
		{
			name:     "a record with none of the labels gets service_name=unknown_service, as Loki needs one label",
			labels:   DefaultLabels,
			ld:       oneRecord(map[string]any{"host.name": "h"}, nil),
			labelsIs: `{service_name="unknown_service"}`,
			metadata: push.LabelsAdapter{{Name: "host.name", Value: "h"}},
		},
		{
			name:     "label values are quoted and escaped",
			labels:   []string{"service.name"},
			ld:       oneRecord(map[string]any{"service.name": "a\"b\\c\nd"}, nil),
			labelsIs: `{service_name="a\"b\\c\nd"}`,
		},
		{
			name:     "the tenant attribute is neither a label nor metadata",
			labels:   []string{"service.name"},
			ld:       oneRecord(map[string]any{"service.name": "s", TenantAttribute: "team-a"}, nil),
			labelsIs: `{service_name="s"}`,
		},
		{
			name:     "a record attribute overrides a resource attribute of the same key",
			labels:   []string{"service.name"},
			ld:       oneRecord(map[string]any{"service.name": "res"}, func(lr plog.LogRecord) { lr.Attributes().PutStr("service.name", "rec") }),
			labelsIs: `{service_name="rec"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, lines := newConverter(tt.labels).build(tt.ld, []int{0})
			require.Equal(t, 1, lines)
			require.Len(t, req.Streams, 1)
			s := req.Streams[0]
			assert.Equal(t, tt.labelsIs, s.Labels)
			require.Len(t, s.Entries, 1)
			assert.Equal(t, "hello", s.Entries[0].Line)
			assert.Equal(t, t0.UnixNano(), s.Entries[0].Timestamp.UnixNano())
			assert.Equal(t, tt.metadata, s.Entries[0].StructuredMetadata)
		})
	}
}

func TestRecordsOfOneLabelSetShareAStreamInTimeOrder(t *testing.T) {
	ld := plog.NewLogs()
	for _, svc := range []string{"a", "b", "a"} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", svc)
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := 3; i > 0; i-- {
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i) * time.Second)))
			lr.Body().SetStr(svc)
		}
	}
	req, lines := newConverter(DefaultLabels).build(ld, []int{0, 1, 2})
	assert.Equal(t, 9, lines)
	require.Len(t, req.Streams, 2)
	assert.Equal(t, `{service_name="a"}`, req.Streams[0].Labels)
	require.Len(t, req.Streams[0].Entries, 6)
	for i := 1; i < 6; i++ {
		assert.False(t, req.Streams[0].Entries[i].Timestamp.Before(req.Streams[0].Entries[i-1].Timestamp))
	}
	assert.Len(t, req.Streams[1].Entries, 3)
}

func TestRecordWithoutTimestampUsesObservedTime(t *testing.T) {
	ld := oneRecord(nil, func(lr plog.LogRecord) {
		lr.SetTimestamp(0)
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Minute)))
	})
	req, _ := newConverter(nil).build(ld, []int{0})
	assert.Equal(t, t0.Add(time.Minute).UnixNano(), req.Streams[0].Entries[0].Timestamp.UnixNano())
}

func TestGroupByTenant(t *testing.T) {
	ld := plog.NewLogs()
	for _, tenant := range []string{"a", "", "b", "a"} {
		rl := ld.ResourceLogs().AppendEmpty()
		if tenant != "" {
			rl.Resource().Attributes().PutStr(TenantAttribute, tenant)
		}
	}
	assert.Equal(t, []tenantGroup{{"a", []int{0, 3}}, {"", []int{1}}, {"b", []int{2}}}, groupByTenant(ld, tenantSpec{attrs: []string{TenantAttribute}}))
	assert.Equal(t, []tenantGroup{{"fixed", []int{0, 1, 2, 3}}}, groupByTenant(ld, tenantSpec{fixed: "fixed", attrs: []string{TenantAttribute}}), "a configured tenant overrides the attribute")
	mapped := tenantSpec{attrs: []string{TenantAttribute}, mapping: map[string]string{"a": "12", "b": "12", "": "x"}}
	assert.Equal(t, []tenantGroup{{"12", []int{0, 2, 3}}, {"", []int{1}}}, groupByTenant(ld, mapped),
		"mapped names are replaced by their id and share its push; no tenant stays no tenant")
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{
		"service.name": "service_name", "k8s.namespace.name": "k8s_namespace_name", "level": "level",
		"1st": "_1st", "a-b/c": "a_b_c", "é": "_",
	} {
		assert.Equal(t, want, labelName(in), in)
	}
}

func TestResourceTenant(t *testing.T) {
	spec := tenantSpec{attrs: []string{ObsdTenantAttribute, TenantAttribute}, def: "anon"}
	tests := []struct {
		name  string
		attrs map[string]any
		want  string
	}{
		{"the authenticated obsd.tenant wins over the pusher's loki.tenant", map[string]any{ObsdTenantAttribute: "cert-a", TenantAttribute: "claimed-b"}, "cert-a"},
		{"loki.tenant is used when obsd.tenant is missing", map[string]any{TenantAttribute: "b"}, "b"},
		{"an empty attribute does not name a tenant", map[string]any{ObsdTenantAttribute: "", TenantAttribute: "b"}, "b"},
		{"a resource without one gets the default tenant", map[string]any{"service.name": "s"}, "anon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := pcommon.NewMap()
			require.NoError(t, m.FromRaw(tt.attrs))
			assert.Equal(t, tt.want, resourceTenant(m, spec))
		})
	}
}

// splitInput is three resources: two records under one scope, then two
// scopes of one record each, then a record far over any small limit.
func splitInput() plog.Logs {
	ld := plog.NewLogs()
	add := func(sl plog.ScopeLogs, body string) {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t0))
		lr.Body().SetStr(body)
	}
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "a")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("scope-a")
	add(sl, "a1")
	add(sl, "a2")
	rl = ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "b")
	rl.ScopeLogs().AppendEmpty() // an empty scope is skipped
	for _, name := range []string{"scope-b1", "scope-b2"} {
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(name)
		add(sl, name+" line")
	}
	rl = ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "c")
	add(rl.ScopeLogs().AppendEmpty(), strings.Repeat("x", 5000))
	return ld
}

// partLines renders parts as "service/scope:body" lines, one slice per part.
func partLines(parts []plog.Logs) [][]string {
	var out [][]string
	for _, p := range parts {
		var lines []string
		for _, rl := range p.ResourceLogs().All() {
			svc, _ := rl.Resource().Attributes().Get("service.name")
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					lines = append(lines, svc.AsString()+"/"+sl.Scope().Name()+":"+lr.Body().AsString()[:min(8, len(lr.Body().AsString()))])
				}
			}
		}
		out = append(out, lines)
	}
	return out
}

func TestSplitKeepsEveryPushUnderTheLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		want  [][]string
	}{
		{
			name:  "a limit above the whole batch gives one part with every record in order",
			limit: 1 << 20,
			want:  [][]string{{"a/scope-a:a1", "a/scope-a:a2", "b/scope-b1:scope-b1", "b/scope-b2:scope-b2", "c/:xxxxxxxx"}},
		},
		{
			name:  "a small limit cuts between records and keeps each record's resource and scope",
			limit: 150,
			want: [][]string{
				{"a/scope-a:a1", "a/scope-a:a2"},
				{"b/scope-b1:scope-b1", "b/scope-b2:scope-b2"},
				{"c/:xxxxxxxx"},
			},
		},
		{
			name:  "a limit below every record gives one record per part, the oversize one alone",
			limit: 10,
			want: [][]string{
				{"a/scope-a:a1"}, {"a/scope-a:a2"}, {"b/scope-b1:scope-b1"}, {"b/scope-b2:scope-b2"}, {"c/:xxxxxxxx"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := splitInput()
			c := newConverter(DefaultLabels)
			parts := c.split(ld, []int{0, 1, 2}, tt.limit)
			assert.Equal(t, tt.want, partLines(parts))
			for _, p := range parts {
				req, lines := c.build(p, allResources(p))
				if lines > 1 {
					assert.LessOrEqual(t, req.Size(), tt.limit, "a push of several records stays within the limit")
				}
			}
		})
	}
}
