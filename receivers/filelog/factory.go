// Package filelog is contrib's file_log receiver (pkg/stanza) with the
// counters it lacks: lines cut at a size limit and the files, lines and
// batches it skips or drops. Its configuration and behaviour are the
// upstream receiver's, unchanged; obsd registers it in place of the
// upstream factory, under the same type (file_log, alias filelog).
package filelog

import (
	"context"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/xreceiver"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// scopeName is the instrumentation scope of the receiver's own metrics.
const scopeName = "github.com/obsd-dev/obsd/receivers/filelog"

// deprecatedType is the receiver's former name, still accepted upstream.
var deprecatedType = component.MustNewType("filelog")

// NewFactory returns the file_log receiver factory: contrib's, whose
// receivers count what they cut, skip and drop in obsd_filelog_*.
func NewFactory() receiver.Factory {
	up := filelogreceiver.NewFactory()
	return xreceiver.NewFactory(
		up.Type(),
		up.CreateDefaultConfig,
		xreceiver.WithLogs(func(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
			return createLogs(ctx, up, set, cfg, next)
		}, up.LogsStability()),
		xreceiver.WithDeprecatedTypeAlias(deprecatedType),
	)
}

// createLogs builds the upstream receiver with a logger that counts its
// error-level skips and a consumer that counts oversize records.
func createLogs(ctx context.Context, up receiver.Factory, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	tel, err := newTelemetry(set.TelemetrySettings, set.ID.String())
	if err != nil {
		return nil, err
	}
	set.Logger = set.Logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return &countingCore{Core: c, count: tel.countError}
	}))
	counted := &oversizeCounter{next: next, threshold: oversizeThreshold(cfg.(*Config)), tel: tel}
	return up.CreateLogs(ctx, set, cfg, counted)
}
