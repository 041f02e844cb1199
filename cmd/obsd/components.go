package main

import (
	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/kafkaexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/pprofextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/cumulativetodeltaprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/deltatocumulativeprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/groupbyattrsprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/probabilisticsamplerprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourceprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/fluentforwardreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/jaegerreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kafkareceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/syslogreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/tcplogreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/udplogreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/zipkinreceiver"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/forwardconnector"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/zpagesextension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	sloconnector "github.com/obsd-dev/obsd/connectors/slo"
	lokiexporter "github.com/obsd-dev/obsd/exporters/loki"
	"github.com/obsd-dev/obsd/extensions/circuitbreaker"
	"github.com/obsd-dev/obsd/extensions/oversize"
	"github.com/obsd-dev/obsd/extensions/ratelimit"
	"github.com/obsd-dev/obsd/extensions/statuspage"
	"github.com/obsd-dev/obsd/extensions/tlsidentity"
	"github.com/obsd-dev/obsd/extensions/walstorage"
	"github.com/obsd-dev/obsd/internal/retryhint"
	"github.com/obsd-dev/obsd/processors/correlation"
	"github.com/obsd-dev/obsd/processors/k8smeta"
	"github.com/obsd-dev/obsd/processors/shed"
	"github.com/obsd-dev/obsd/processors/tenant"
	"github.com/obsd-dev/obsd/receivers/filelog"
	"github.com/obsd-dev/obsd/receivers/lokipush"
)

// components is obsd's table of contents: every component a config may name.
// Upstream components come first in each list, obsd's own after them.
func components() (otelcol.Factories, error) {
	var err error
	factories := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
	// The slo processor counts into the engine of the slo connector of the
	// same name: one pair of factories shares the engines.
	sloConnector, sloProcessor := sloconnector.NewFactories()

	factories.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](
		// The collector's OTLP receiver, whose pipeline refusals
		// (memory_limiter, a full or unwritable queue) carry a retry delay.
		retryhint.Receiver(otlpreceiver.NewFactory(), retryhint.PipelineDelay),
		jaegerreceiver.NewFactory(),
		prometheusreceiver.NewFactory(),
		zipkinreceiver.NewFactory(),
		// contrib's file_log, counting what it cuts, skips and drops.
		filelog.NewFactory(),
		syslogreceiver.NewFactory(),
		fluentforwardreceiver.NewFactory(),
		kafkareceiver.NewFactory(),
		tcplogreceiver.NewFactory(),
		udplogreceiver.NewFactory(),
		lokipush.NewFactory(),
	)
	if err != nil {
		return otelcol.Factories{}, err
	}

	factories.Processors, err = otelcol.MakeFactoryMap[processor.Factory](
		batchprocessor.NewFactory(),
		memorylimiterprocessor.NewFactory(),
		resourceprocessor.NewFactory(),
		cumulativetodeltaprocessor.NewFactory(),
		deltatocumulativeprocessor.NewFactory(),
		redactionprocessor.NewFactory(),
		probabilisticsamplerprocessor.NewFactory(),
		groupbyattrsprocessor.NewFactory(),
		correlation.NewFactory(),
		shed.NewFactory(),
		k8smeta.NewFactory(),
		tenant.NewFactory(),
		sloProcessor,
	)
	if err != nil {
		return otelcol.Factories{}, err
	}

	factories.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](
		otlpexporter.NewFactory(),
		otlphttpexporter.NewFactory(),
		debugexporter.NewFactory(),
		prometheusremotewriteexporter.NewFactory(),
		prometheusexporter.NewFactory(),
		kafkaexporter.NewFactory(),
		lokiexporter.NewFactory(),
	)
	if err != nil {
		return otelcol.Factories{}, err
	}

	factories.Connectors, err = otelcol.MakeFactoryMap[connector.Factory](
		spanmetricsconnector.NewFactory(),
		forwardconnector.NewFactory(),
		sloConnector,
	)
	if err != nil {
		return otelcol.Factories{}, err
	}

	factories.Extensions, err = otelcol.MakeFactoryMap[extension.Factory](
		healthcheckextension.NewFactory(),
		filestorage.NewFactory(),
		zpagesextension.NewFactory(),
		pprofextension.NewFactory(),
		bearertokenauthextension.NewFactory(),
		ratelimit.NewFactory(),
		circuitbreaker.NewFactory(),
		tlsidentity.NewFactory(),
		oversize.NewFactory(),
		statuspage.NewFactory(),
		walstorage.NewFactory(),
	)
	if err != nil {
		return otelcol.Factories{}, err
	}
	return factories, nil
}
