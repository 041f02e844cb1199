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

// pushLogs sends ld, one push per tenant (several when a tenant's share is
// over max_request_size). When some pushes fail with a retryable error,
// only their data is handed back for retry (so the rest is not sent
// twice). Pushes refused permanently are counted, logged and dropped; the
// batch fails permanently only when nothing of it was delivered, as the
// collector takes an OTLP partial success as a success.
func (e *lokiExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	groups := groupByTenant(ld, e.cfg.tenantSpec())
	var retry []plog.Logs
	var retryErrs, permErrs []error
	wholeRetries, delivered := 0, false
	for _, g := range groups {
		o := e.pushTenant(ctx, ld, g)
		delivered = delivered || o.delivered
		switch {
		case o.err == nil:
		case o.retry == nil:
			permErrs = append(permErrs, o.err)
		default:
			retryErrs = append(retryErrs, o.err)
			retry = append(retry, *o.retry)
			if o.whole {
				wholeRetries++
			}
		}
	}
	if len(retryErrs) > 0 {
		err := retryable(retryErrs, permErrs)
		if wholeRetries == len(groups) {
			return err
		}
		out := plog.NewLogs()
		for _, part := range retry {
			part.ResourceLogs().MoveAndAppendTo(out.ResourceLogs())
		}
		return consumererror.NewLogs(err, out)
	}
	if len(permErrs) > 0 && !delivered {
		return consumererror.NewPermanent(errors.Join(permErrs...))
	}
	return nil
}

// outcome is what became of one tenant's share of a batch.
type outcome struct {
	retry     *plog.Logs // what must be retried; nil when nothing
	whole     bool       // retry is the entire share
	delivered bool       // at least one push was accepted
	err       error
}

// pushTenant sends one tenant's share of ld. On a retryable failure it
// hands back the records to retry; permanent refusals are counted, logged
// and not retried. A share over max_request_size goes in several pushes:
// a refused one does not stop the others, a retryable failure stops there
// and hands back the pushes not delivered yet.
func (e *lokiExporter) pushTenant(ctx context.Context, ld plog.Logs, g tenantGroup) outcome {
	c := e.template.fork()
	req, lines := c.build(ld, g.resources)
	if lines == 0 {
		return outcome{}
	}
	if limit := e.cfg.MaxRequestSize; limit <= 0 || req.Size() <= limit {
		err := e.pushOne(ctx, req, lines, g.tenant)
		if err != nil && !consumererror.IsPermanent(err) {
			again := subset(ld, g.resources)
			return outcome{retry: &again, whole: true, err: err}
		}
		return outcome{delivered: err == nil, err: err}
	}
	parts := c.split(ld, g.resources, e.cfg.MaxRequestSize)
	var perm []error
	delivered := false
	for i, part := range parts {
		req, lines := c.build(part, allResources(part))
		err := e.pushOne(ctx, req, lines, g.tenant)
		switch {
		case err == nil:
			delivered = true
		case consumererror.IsPermanent(err):
			perm = append(perm, err)
		default:
			again := plog.NewLogs()
			for _, p := range parts[i:] {
				p.ResourceLogs().MoveAndAppendTo(again.ResourceLogs())
			}
			return outcome{retry: &again, whole: i == 0, delivered: delivered, err: retryable([]error{err}, perm)}
		}
	}
	return outcome{delivered: delivered, err: errors.Join(perm...)}
}

// retryable joins retryable errors, naming the permanent refusals of the
// same batch by their text only: wrapped, a permanent error would make the
// whole error permanent (consumererror.IsPermanent looks through
// errors.Join) and the data that must be retried would be dropped.
func retryable(retry, permanent []error) error {
	err := errors.Join(retry...)
	if len(permanent) == 0 {
		return err
	}
	return fmt.Errorf("%w; dropped, not retried: %s", err, errors.Join(permanent...).Error())
}

// pushOne sends one push request of lines lines; a permanent refusal is
// counted and logged.
func (e *lokiExporter) pushOne(ctx context.Context, req *push.PushRequest, lines int, tenant string) error {
	err := e.send(ctx, req, tenant)
	if err != nil && consumererror.IsPermanent(err) {
		e.tel.permanentRejected.Add(ctx, int64(lines))
		e.settings.Logger.Error("Loki refused a push permanently; dropping it",
			zap.String("tenant", tenant), zap.Int("lines", lines), zap.Error(err))
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
