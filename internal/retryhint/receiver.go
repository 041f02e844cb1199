package retryhint

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/xconsumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/xreceiver"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// PipelineDelay is the retry delay a pipeline refusal carries: the
// memory_limiter refusing (it looks at memory again every check_interval,
// 1s in obsd's configs), or a full or unwritable persistent queue. The
// pipeline does not say when it will take data again, so this is a fixed
// floor: the OTel SDKs wait the longer of it and their own backoff.
const PipelineDelay = time.Second

// Receiver wraps a receiver factory so that every non-permanent error its
// pipeline returns, which carries no gRPC status of its own (the
// memory_limiter's "data refused due to high memory usage", a full queue,
// a queue write that failed), reaches the receiver as UNAVAILABLE with a
// RetryInfo of delay. The collector's OTLP receiver answers such a status
// as is on gRPC, and on HTTP as 503 with Retry-After in whole seconds and
// the status (RetryInfo included) as body; without it, it answers a bare
// UNAVAILABLE or 503. Permanent errors and errors that already carry a
// status are passed on unchanged, and the error chain is kept (errors.Is,
// consumererror.IsDownstream still see the original), so the receiver's
// refused/failed accounting is the same. Type, config and stability are
// the wrapped factory's.
func Receiver(f receiver.Factory, delay time.Duration) receiver.Factory {
	w := wrapped{Factory: f, delay: delay}
	if xf, ok := f.(xreceiver.Factory); ok {
		return xwrapped{wrapped: w, profiles: xf}
	}
	return w
}

type wrapped struct {
	receiver.Factory
	delay time.Duration
}

func (w wrapped) CreateTraces(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	return w.Factory.CreateTraces(ctx, set, cfg, traces{Traces: next, delay: w.delay})
}

func (w wrapped) CreateMetrics(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return w.Factory.CreateMetrics(ctx, set, cfg, metrics{Metrics: next, delay: w.delay})
}

func (w wrapped) CreateLogs(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return w.Factory.CreateLogs(ctx, set, cfg, logs{Logs: next, delay: w.delay})
}

// xwrapped keeps a wrapped factory's profiles support (passed through as
// is: no obsd pipeline carries profiles).
type xwrapped struct {
	wrapped
	profiles xreceiver.Factory
}

var _ xreceiver.Factory = xwrapped{}

func (x xwrapped) CreateProfiles(ctx context.Context, set receiver.Settings, cfg component.Config, next xconsumer.Profiles) (xreceiver.Profiles, error) {
	return x.profiles.CreateProfiles(ctx, set, cfg, next)
}

func (x xwrapped) ProfilesStability() component.StabilityLevel { return x.profiles.ProfilesStability() }

type traces struct {
	consumer.Traces
	delay time.Duration
}

func (c traces) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	return Refusal(c.Traces.ConsumeTraces(ctx, td), c.delay)
}

type metrics struct {
	consumer.Metrics
	delay time.Duration
}

func (c metrics) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return Refusal(c.Metrics.ConsumeMetrics(ctx, md), c.delay)
}

type logs struct {
	consumer.Logs
	delay time.Duration
}

func (c logs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return Refusal(c.Logs.ConsumeLogs(ctx, ld), c.delay)
}

// Refusal is err as a receiver should answer it: nil, a permanent error
// and an error that carries a gRPC status are returned as they are; any
// other error (retryable, says the collector's consumererror contract)
// gets the status UNAVAILABLE with a RetryInfo of delay, and still wraps
// err.
func Refusal(err error, delay time.Duration) error {
	if err == nil || consumererror.IsPermanent(err) {
		return err
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return &refusal{err: err, st: Status(codes.Unavailable, err.Error(), delay)}
}

// refusal is an error with a gRPC status (status.FromError finds it) that
// still unwraps to the pipeline's error.
type refusal struct {
	err error
	st  *status.Status
}

func (r *refusal) Error() string              { return r.err.Error() }
func (r *refusal) Unwrap() error              { return r.err }
func (r *refusal) GRPCStatus() *status.Status { return r.st }
