// Package loki is an exporter that pushes logs to Loki's push API
// (snappy-compressed protobuf, Loki's own push types) on top of the
// collector's exporterhelper: queue (optionally persistent), retry with
// backoff, and per-attempt timeout, so delivery is at-least-once.
package loki

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
)

const (
	tenantHeader      = "X-Scope-OrgID"
	maxErrorBodyBytes = 4 << 10
)

type lokiExporter struct {
	cfg      *Config
	settings exporter.Settings
	url      string
	template *converter // shared, read-only label specs
	client   *http.Client
	bufs     sync.Pool // *[]byte, for marshalled (uncompressed) bodies
	tel      *telemetry
}

func newExporter(cfg *Config, set exporter.Settings) (*lokiExporter, error) {
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &lokiExporter{
		cfg:      cfg,
		settings: set,
		url:      cfg.pushURL(),
		template: newConverter(cfg.Labels, cfg.TenantAttributes...),
		bufs:     sync.Pool{New: func() any { return new([]byte) }},
		tel:      tel,
	}, nil
}

func (e *lokiExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), e.settings.TelemetrySettings)
	if err != nil {
		return err
	}
	e.client = client
	return nil
}

func (e *lokiExporter) shutdown(context.Context) error {
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	return nil
}

// pushLogs sends ld, one push per tenant. When some tenants fail with a
// retryable error, only their data is handed back for retry (so the others
// are not sent twice); permanent failures are counted and dropped.
func (e *lokiExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	groups := groupByTenant(ld, e.cfg.tenantSpec())
	var retry []int
	var retryErrs, permErrs []error
	for _, g := range groups {
		err := e.pushTenant(ctx, ld, g)
		switch {
		case err == nil:
		case consumererror.IsPermanent(err):
			permErrs = append(permErrs, err)
		default:
			retryErrs = append(retryErrs, err)
			retry = append(retry, g.resources...)
		}
	}
	if len(retryErrs) > 0 {
		err := errors.Join(append(retryErrs, permErrs...)...)
		if len(retry) == ld.ResourceLogs().Len() {
			return err
		}
		return consumererror.NewLogs(err, subset(ld, retry))
	}
	if len(permErrs) > 0 {
		return consumererror.NewPermanent(errors.Join(permErrs...))
	}
	return nil
}

// pushTenant converts and sends one tenant's share of ld.
func (e *lokiExporter) pushTenant(ctx context.Context, ld plog.Logs, g tenantGroup) error {
	c := e.template.fork()
	req, lines := c.build(ld, g.resources)
	if lines == 0 {
		return nil
	}
	err := e.send(ctx, req, g.tenant)
	if err != nil && consumererror.IsPermanent(err) {
		e.tel.permanentRejected.Add(ctx, int64(lines))
		e.settings.Logger.Error("Loki refused a push permanently; dropping it",
			zap.String("tenant", g.tenant), zap.Int("lines", lines), zap.Error(err))
	}
	return err
}

// send marshals, compresses and posts one push request, classifying the
// outcome: 2xx ok; 429 and 5xx retryable (honouring Retry-After); other
// statuses permanent.
func (e *lokiExporter) send(ctx context.Context, req *push.PushRequest, tenant string) error {
	rawBuf := e.bufs.Get().(*[]byte)
	defer e.bufs.Put(rawBuf)

	size := req.Size()
	if cap(*rawBuf) < size {
		*rawBuf = make([]byte, size)
	}
	raw := (*rawBuf)[:size]
	n, err := req.MarshalToSizedBuffer(raw)
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("cannot marshal push request: %w", err))
	}
	raw = raw[size-n:]
	// The compressed body is not pooled: the transport may still read it
	// after Do returns (see http.RoundTripper).
	body := snappy.Encode(nil, raw)

	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("cannot build request to %s: %w", e.url, err))
	}
	httpReq.Header.Set("Content-Type", "application/x-protobuf")
	if tenant != "" {
		httpReq.Header.Set(tenantHeader, tenant)
	}
	resp, err := e.client.Do(httpReq)
	if err != nil {
		return fmt.Errorf("push to %s failed: %w", e.url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	return classify(resp, strings.TrimSpace(string(msg)), time.Now())
}

// classify maps a Loki response to nil, a retryable error (with a throttle
// delay when Retry-After is given) or a permanent error.
func classify(resp *http.Response, msg string, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err := fmt.Errorf("loki answered %d %s: %s", code, http.StatusText(code), msg)
	if code != http.StatusTooManyRequests && code < 500 {
		return consumererror.NewPermanent(err)
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
		return exporterhelper.NewThrottleRetry(err, d)
	}
	return err
}

// retryAfter parses Retry-After as delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
