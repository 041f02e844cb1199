package lokipush

import (
	"strings"
	"time"

	"github.com/grafana/loki/pkg/push"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// tenantAttribute carries the X-Scope-OrgID tenant, as a resource attribute.
const tenantAttribute = "loki.tenant"

// resourceLabel maps the stream labels that name a resource to their
// resource attribute. Every other stream label becomes a log attribute.
func resourceLabel(name string) (string, bool) {
	switch name {
	case "service_name":
		return "service.name", true
	case "job":
		return "job", true
	case "namespace":
		return "k8s.namespace.name", true
	case "pod":
		return "k8s.pod.name", true
	case "container":
		return "k8s.container.name", true
	}
	return "", false
}

// toLogs converts accepted streams into one ResourceLogs per stream. Entry
// timestamps are kept to the nanosecond; observed is stamped on every record.
func toLogs(streams []stream, tenant string, observed time.Time) plog.Logs {
	logs := plog.NewLogs()
	rls := logs.ResourceLogs()
	rls.EnsureCapacity(len(streams))
	obs := pcommon.NewTimestampFromTime(observed)
	var logLabels []push.LabelAdapter
	for i := range streams {
		s := &streams[i]
		rl := rls.AppendEmpty()
		res := rl.Resource().Attributes()
		logLabels = logLabels[:0]
		sevText, sevNum := "", plog.SeverityNumberUnspecified
		for _, l := range s.labels {
			if l.Name == "level" {
				sevText, sevNum = l.Value, severityFromLevel(l.Value)
			}
			if key, ok := resourceLabel(l.Name); ok {
				res.PutStr(key, l.Value)
			} else {
				logLabels = append(logLabels, l)
			}
		}
		if tenant != "" {
			res.PutStr(tenantAttribute, tenant)
		}
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(scopeName)
		lrs := sl.LogRecords()
		lrs.EnsureCapacity(len(s.entries))
		for j := range s.entries {
			lr := appendRecord(lrs, &s.entries[j], logLabels, obs)
			if sevText != "" {
				lr.SetSeverityText(sevText)
				lr.SetSeverityNumber(sevNum)
			}
		}
	}
	return logs
}

func appendRecord(lrs plog.LogRecordSlice, e *push.Entry, logLabels []push.LabelAdapter, obs pcommon.Timestamp) plog.LogRecord {
	lr := lrs.AppendEmpty()
	// Zero or pre-epoch timestamps are left unset rather than wrapped.
	if !e.Timestamp.IsZero() && e.Timestamp.UnixNano() > 0 {
		lr.SetTimestamp(pcommon.Timestamp(e.Timestamp.UnixNano()))
	}
	lr.SetObservedTimestamp(obs)
	lr.Body().SetStr(e.Line)
	attrs := lr.Attributes()
	attrs.EnsureCapacity(len(logLabels) + len(e.StructuredMetadata))
	for _, l := range logLabels {
		attrs.PutStr(l.Name, l.Value)
	}
	for _, l := range e.StructuredMetadata {
		attrs.PutStr(l.Name, l.Value)
	}
	return lr
}

// severityFromLevel maps the usual Loki `level` values (case-insensitive)
// to a severity number; unknown values stay unspecified.
func severityFromLevel(level string) plog.SeverityNumber {
	switch strings.ToLower(level) {
	case "trace":
		return plog.SeverityNumberTrace
	case "debug", "dbg":
		return plog.SeverityNumberDebug
	case "info", "information", "notice":
		return plog.SeverityNumberInfo
	case "warn", "warning":
		return plog.SeverityNumberWarn
	case "error", "err":
		return plog.SeverityNumberError
	case "fatal", "critical", "crit", "panic", "emergency", "alert":
		return plog.SeverityNumberFatal
	}
	return plog.SeverityNumberUnspecified
}
