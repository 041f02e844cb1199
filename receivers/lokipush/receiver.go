// Package lokipush is a receiver for Loki's push API: it accepts what
// loki-client-go, promtail and Grafana Agent send (protobuf+snappy, and JSON
// optionally gzip-encoded) on POST /loki/api/v1/push and emits logs.
package lokipush

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"
)

const (
	// PushPath is Loki's push endpoint.
	PushPath = "/loki/api/v1/push"
	// legacyPushPath is the pre-2.0 path some shippers still use.
	legacyPushPath = "/api/prom/push"
)

type lokiReceiver struct {
	cfg      *Config
	settings receiver.Settings
	next     consumer.Logs
	obsrecv  *receiverhelper.ObsReport
	tel      *telemetry
	handler  *pushHandler

	server *http.Server
	addr   string // where Start listens, known after Start
	wg     sync.WaitGroup
}

var _ receiver.Logs = (*lokiReceiver)(nil)

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Logs) (*lokiReceiver, error) {
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "http",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	r := &lokiReceiver{cfg: cfg, settings: set, next: next, obsrecv: obsrecv, tel: tel}
	r.handler = newPushHandler(cfg, next, obsrecv, tel, set.Logger)
	return r, nil
}

// Start listens on the configured endpoint and serves the push API.
func (r *lokiReceiver) Start(ctx context.Context, host component.Host) error {
	mux := http.NewServeMux()
	mux.Handle("POST "+PushPath, r.handler)
	mux.Handle("POST "+legacyPushPath, r.handler)

	var err error
	r.server, err = r.cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings, mux)
	if err != nil {
		return err
	}
	ln, err := r.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return err
	}
	r.addr = ln.Addr().String()
	r.settings.Logger.Info("Loki push receiver listening", zap.String("endpoint", ln.Addr().String()))
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if errHTTP := r.server.Serve(ln); errHTTP != nil && !errors.Is(errHTTP, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(errHTTP))
		}
	}()
	return nil
}

// Shutdown stops the server and waits for in-flight requests.
func (r *lokiReceiver) Shutdown(ctx context.Context) error {
	if r.server == nil {
		return nil
	}
	err := r.server.Shutdown(ctx)
	r.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
