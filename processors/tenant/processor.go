package tenant

import (
	"context"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"

	"github.com/obsd-dev/obsd/internal/tenantid"
)

type tenantProcessor struct {
	cfg *Config
	tel *telemetry
}

func newProcessor(cfg *Config, set processor.Settings) (*tenantProcessor, error) {
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &tenantProcessor{cfg: cfg, tel: tel}, nil
}

// tenantOf is the request's tenant and where it came from.
func (p *tenantProcessor) tenantOf(ctx context.Context) (string, string) {
	info := client.FromContext(ctx)
	if p.cfg.FromAuth != "" && info.Auth != nil {
		if s, ok := info.Auth.GetAttribute(p.cfg.FromAuth).(string); ok && tenantid.Valid(s) {
			return s, sourceAuth
		}
	}
	if p.cfg.FromMetadata != "" {
		if vs := info.Metadata.Get(p.cfg.FromMetadata); len(vs) > 0 && tenantid.Valid(vs[0]) {
			return vs[0], sourceMetadata
		}
	}
	if p.cfg.Default != "" {
		return p.cfg.Default, sourceDefault
	}
	return "", sourceNone
}

// requestTenant is the request's tenant, counted once under its source.
func (p *tenantProcessor) requestTenant(ctx context.Context) string {
	tenant, src := p.tenantOf(ctx)
	p.tel.request(ctx, src)
	return tenant
}

// stamp writes tenant to the attributes of n resources, or removes the
// attribute when tenant is "".
func (p *tenantProcessor) stamp(n int, resource func(int) pcommon.Resource, tenant string) {
	for i := range n {
		attrs := resource(i).Attributes()
		if tenant == "" {
			attrs.Remove(p.cfg.Attribute)
		} else {
			attrs.PutStr(p.cfg.Attribute, tenant)
		}
	}
}

func (p *tenantProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	rs := td.ResourceSpans()
	p.stamp(rs.Len(), func(i int) pcommon.Resource { return rs.At(i).Resource() }, p.requestTenant(ctx))
	return td, nil
}

func (p *tenantProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	rl := ld.ResourceLogs()
	p.stamp(rl.Len(), func(i int) pcommon.Resource { return rl.At(i).Resource() }, p.requestTenant(ctx))
	return ld, nil
}

func (p *tenantProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	rm := md.ResourceMetrics()
	p.stamp(rm.Len(), func(i int) pcommon.Resource { return rm.At(i).Resource() }, p.requestTenant(ctx))
	return md, nil
}
