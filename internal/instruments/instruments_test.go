package instruments

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// failingMeter refuses the instruments named in bad; it counts callbacks
// registered.
type failingMeter struct {
	noop.Meter
	bad       map[string]bool
	callbacks int
}

var errRefused = errors.New("refused by the meter")

func (m *failingMeter) fail(name string) error {
	if m.bad[name] {
		return errRefused
	}
	return nil
}

func (m *failingMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	c, _ := m.Meter.Int64Counter(name, opts...)
	return c, m.fail(name)
}

func (m *failingMeter) Int64ObservableGauge(name string, opts ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	g, _ := m.Meter.Int64ObservableGauge(name, opts...)
	return g, m.fail(name)
}

func (m *failingMeter) Float64ObservableGauge(name string, opts ...metric.Float64ObservableGaugeOption) (metric.Float64ObservableGauge, error) {
	g, _ := m.Meter.Float64ObservableGauge(name, opts...)
	return g, m.fail(name)
}

func (m *failingMeter) Int64ObservableCounter(name string, opts ...metric.Int64ObservableCounterOption) (metric.Int64ObservableCounter, error) {
	c, _ := m.Meter.Int64ObservableCounter(name, opts...)
	return c, m.fail(name)
}

func (m *failingMeter) RegisterCallback(f metric.Callback, obs ...metric.Observable) (metric.Registration, error) {
	m.callbacks++
	return m.Meter.RegisterCallback(f, obs...)
}

type failingProvider struct {
	noop.MeterProvider
	m *failingMeter
}

func (p failingProvider) Meter(string, ...metric.MeterOption) metric.Meter { return p.m }

func TestEveryInstrumentErrorIsReturnedAndNamed(t *testing.T) {
	m := &failingMeter{bad: map[string]bool{"obsd_a_total": true, "obsd_c": true}}
	b := NewBuilder(failingProvider{m: m}, "test")
	b.Int64Counter("obsd_a_total")
	b.Int64Counter("obsd_b_total")
	g := b.Int64ObservableGauge("obsd_c")
	b.Float64ObservableGauge("obsd_d")
	b.Int64ObservableCounter("obsd_e_total")
	reg := b.RegisterCallback(func(context.Context, metric.Observer) error { return nil }, g)

	err := b.Err()
	if !errors.Is(err, errRefused) {
		t.Fatalf("Err = %v, want the meter's error", err)
	}
	for _, name := range []string{"obsd_a_total", "obsd_c"} {
		if !strings.Contains(err.Error(), "could not create "+name+": ") {
			t.Errorf("the error does not name %s: %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "obsd_b_total") {
		t.Errorf("a good instrument is named in the error: %v", err)
	}
	if reg != nil || m.callbacks != 0 {
		t.Fatal("a callback was registered on instruments that failed")
	}
}

func TestInstrumentsRecordWithPreparedAttributeSets(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()

	b := NewBuilder(mp, "github.com/obsd-dev/obsd/internal/instruments")
	c := b.Int64Counter("obsd_items_total", metric.WithUnit("{item}"))
	g := b.Int64ObservableGauge("obsd_depth")
	reg := b.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(g, 7, ObserveOptions(attribute.String("queue", "q1"))...)
		return nil
	}, g)
	if err := b.Err(); err != nil || reg == nil {
		t.Fatalf("Err = %v, registration %v", err, reg)
	}
	dropped := AddOptions(attribute.String("outcome", "dropped"))
	c.Add(context.Background(), 2, dropped...)
	c.Add(context.Background(), 3, dropped...)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/obsd-dev/obsd/internal/instruments" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				v, _ := d.DataPoints[0].Attributes.Value("outcome")
				got[m.Name] = v.AsString() + "=" + itoa(d.DataPoints[0].Value)
			case metricdata.Gauge[int64]:
				v, _ := d.DataPoints[0].Attributes.Value("queue")
				got[m.Name] = v.AsString() + "=" + itoa(d.DataPoints[0].Value)
			}
		}
	}
	if got["obsd_items_total"] != "dropped=5" || got["obsd_depth"] != "q1=7" {
		t.Fatalf("collected %v", got)
	}
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func BenchmarkAddWithPreparedOptions(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	c := NewBuilder(mp, "bench").Int64Counter("obsd_items_total")
	opts := AddOptions(attribute.String("outcome", "dropped"), attribute.String("signal", "logs"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c.Add(ctx, 1, opts...)
	}
}
