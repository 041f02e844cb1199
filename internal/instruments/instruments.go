// Package instruments builds a component's OpenTelemetry instruments in
// obsd's one error style. Each instrument is still created at its call
// site, with its name, description and unit in view; what the Builder
// takes over is the error handling: every error is kept, named by its
// instrument, and returned together (errors.Join) by Err. Nothing is
// ignored, and one bad instrument does not hide the others' errors.
//
//	b := instruments.NewBuilder(set.MeterProvider, scopeName)
//	t.dropped = b.Int64Counter("obsd_x_dropped_total", metric.WithDescription("..."), metric.WithUnit("{item}"))
//	t.reg = b.RegisterCallback(t.observe, t.depth)
//	if err := b.Err(); err != nil {
//		return nil, err
//	}
package instruments

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Builder creates instruments on one meter and collects their errors. It
// is meant for one constructor; it is not safe for concurrent use.
type Builder struct {
	meter metric.Meter
	errs  []error
}

// NewBuilder returns a builder on mp's meter of the given scope (the
// component's import path).
func NewBuilder(mp metric.MeterProvider, scope string) *Builder {
	return &Builder{meter: mp.Meter(scope)}
}

func (b *Builder) keep(name string, err error) {
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("could not create %s: %w", name, err))
	}
}

// Int64Counter creates a counter.
func (b *Builder) Int64Counter(name string, opts ...metric.Int64CounterOption) metric.Int64Counter {
	c, err := b.meter.Int64Counter(name, opts...)
	b.keep(name, err)
	return c
}

// Int64ObservableCounter creates an observable counter (read by a callback).
func (b *Builder) Int64ObservableCounter(name string, opts ...metric.Int64ObservableCounterOption) metric.Int64ObservableCounter {
	c, err := b.meter.Int64ObservableCounter(name, opts...)
	b.keep(name, err)
	return c
}

// Float64ObservableCounter creates a float observable counter (read by a
// callback).
func (b *Builder) Float64ObservableCounter(name string, opts ...metric.Float64ObservableCounterOption) metric.Float64ObservableCounter {
	c, err := b.meter.Float64ObservableCounter(name, opts...)
	b.keep(name, err)
	return c
}

// Int64ObservableGauge creates an integer gauge (read by a callback).
func (b *Builder) Int64ObservableGauge(name string, opts ...metric.Int64ObservableGaugeOption) metric.Int64ObservableGauge {
	g, err := b.meter.Int64ObservableGauge(name, opts...)
	b.keep(name, err)
	return g
}

// Float64ObservableGauge creates a float gauge (read by a callback).
func (b *Builder) Float64ObservableGauge(name string, opts ...metric.Float64ObservableGaugeOption) metric.Float64ObservableGauge {
	g, err := b.meter.Float64ObservableGauge(name, opts...)
	b.keep(name, err)
	return g
}

// RegisterCallback registers f for the observable instruments. After an
// earlier error it registers nothing and returns nil: the instruments may
// be unusable, and Err reports why.
func (b *Builder) RegisterCallback(f metric.Callback, observables ...metric.Observable) metric.Registration {
	if len(b.errs) > 0 {
		return nil
	}
	reg, err := b.meter.RegisterCallback(f, observables...)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("could not register the callback of the gauges: %w", err))
		return nil
	}
	return reg
}

// Err returns every error met so far, joined; nil when all went well.
func (b *Builder) Err() error { return errors.Join(b.errs...) }

// AddOptions is a ready-made option slice for Add with the attribute set
// kvs. Build it once and pass it as opts...: spreading a prepared slice
// into the variadic Add does not allocate, building one per call would.
func AddOptions(kvs ...attribute.KeyValue) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kvs...))}
}

// ObserveOptions is AddOptions for a callback's Observe calls.
func ObserveOptions(kvs ...attribute.KeyValue) []metric.ObserveOption {
	return []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(kvs...))}
}
