package pipeline

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// Sample is one scrape of the self-metrics endpoint.
type Sample struct {
	At   time.Time
	fams map[string]*dto.MetricFamily
}

// Parse reads a Prometheus text exposition taken at at.
// expfmt's parser can panic on malformed input (a label set after a
// TYPE line with no metric name): that is turned into an error.
func Parse(r io.Reader, at time.Time) (s *Sample, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("could not parse the self-metrics: parser panic: %v", p)
		}
	}()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("could not parse the self-metrics: %w", err)
	}
	return &Sample{At: at, fams: fams}, nil
}

// family returns the family of name, with or without a "_total" suffix.
func (s *Sample) family(name string) *dto.MetricFamily {
	if s == nil {
		return nil
	}
	if f, ok := s.fams[name]; ok {
		return f
	}
	if base, ok := strings.CutSuffix(name, "_total"); ok {
		return s.fams[base]
	}
	return s.fams[name+"_total"]
}

// sum adds the values of the series of name that match; ok is false when
// no series matched.
func (s *Sample) sum(name string, match func(labels map[string]string) bool) (v float64, ok bool) {
	f := s.family(name)
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if match != nil && !match(labelMap(m)) {
			continue
		}
		v += value(m)
		ok = true
	}
	return v, ok
}

// each calls fn with every series of name.
func (s *Sample) each(name string, fn func(labels map[string]string, v float64)) {
	f := s.family(name)
	if f == nil {
		return
	}
	for _, m := range f.GetMetric() {
		fn(labelMap(m), value(m))
	}
}

func labelMap(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func value(m *dto.Metric) float64 {
	var v float64
	switch {
	case m.Counter != nil:
		v = m.GetCounter().GetValue()
	case m.Gauge != nil:
		v = m.GetGauge().GetValue()
	case m.Untyped != nil:
		v = m.GetUntyped().GetValue()
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// rate is the per-second increase of a counter between prev and cur; nil
// when either scrape lacks it. A reset (decrease) counts from zero.
func rate(prev, cur *Sample, name string, match func(map[string]string) bool) *float64 {
	if prev == nil || cur == nil {
		return nil
	}
	c, ok := cur.sum(name, match)
	if !ok {
		return nil
	}
	p, _ := prev.sum(name, match)
	dt := cur.At.Sub(prev.At).Seconds()
	if dt <= 0 {
		return nil
	}
	d := c - p
	if d < 0 {
		d = c
	}
	r := d / dt
	return &r
}

func gauge(cur *Sample, name string, match func(map[string]string) bool) *float64 {
	v, ok := cur.sum(name, match)
	if !ok {
		return nil
	}
	return &v
}

// is matches series whose label k is v, and whose optional labels, when
// present, equal their value.
func is(k, v string, optional ...string) func(map[string]string) bool {
	return func(l map[string]string) bool {
		if l[k] != v {
			return false
		}
		for i := 0; i+1 < len(optional); i += 2 {
			if got, ok := l[optional[i]]; ok && got != optional[i+1] {
				return false
			}
		}
		return true
	}
}

// View is the pipeline page: rates are per second between two scrapes;
// a nil number is unknown (the component does not report it).
type View struct {
	At          time.Time      `json:"at"`
	MetricsURL  string         `json:"metricsURL"`
	Error       string         `json:"error,omitempty"`
	Pipelines   []PipelineView `json:"pipelines"`
	Breakers    []Breaker      `json:"circuitBreakers"`
	RateLimited []RateLimited  `json:"rateLimitedClients"`
	Shed        []Shed         `json:"shed"`
	Coverage    []Coverage     `json:"correlationCoverage"`
}

// PipelineView is one pipeline with its components' numbers.
type PipelineView struct {
	Name       string      `json:"name"`
	Signal     string      `json:"signal"`
	Receivers  []Component `json:"receivers"`
	Processors []Component `json:"processors"`
	Exporters  []Component `json:"exporters"`
}

// Component is one component's rates in one pipeline.
type Component struct {
	ID string `json:"id"`
	// Connects names the other pipelines of a connector (a component that
	// is an exporter in one pipeline and a receiver in another).
	Connects []string `json:"connects,omitempty"`
	Accepted *float64 `json:"acceptedPerSecond,omitempty"`
	Refused  *float64 `json:"refusedPerSecond,omitempty"`
	Failed   *float64 `json:"failedPerSecond,omitempty"`
	Incoming *float64 `json:"incomingPerSecond,omitempty"`
	Outgoing *float64 `json:"outgoingPerSecond,omitempty"`
	Sent     *float64 `json:"sentPerSecond,omitempty"`
	// QueueSize and QueueCapacity are the sending queue's fill.
	QueueSize     *float64 `json:"queueSize,omitempty"`
	QueueCapacity *float64 `json:"queueCapacity,omitempty"`
}

// Breaker is one circuit breaker's state (breakerstate.State's names).
type Breaker struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// RateLimited is one client the rate limiter refused.
type RateLimited struct {
	Client           string  `json:"client"`
	Tier             string  `json:"tier"`
	Refused          float64 `json:"refused"`
	RefusedPerSecond float64 `json:"refusedPerSecond"`
}

// Shed is data the shed processor dropped, by signal and reason.
type Shed struct {
	Signal    string  `json:"signal"`
	Reason    string  `json:"reason"`
	Items     float64 `json:"items"`
	PerSecond float64 `json:"perSecond"`
}

// Coverage is the share of a service's log records carrying trace ids.
type Coverage struct {
	Service string  `json:"service"`
	Ratio   float64 `json:"ratio"`
}

// items names the item unit of a signal in otelcol_* metric names.
func items(signal string) string {
	switch signal {
	case "traces":
		return "spans"
	case "metrics":
		return "metric_points"
	case "logs":
		return "log_records"
	case "profiles":
		return "profile_samples"
	}
	return signal
}

// Build computes the view of graphs from two scrapes (prev may be nil:
// no rates yet).
func Build(graphs []Graph, prev, cur *Sample) View {
	v := View{Pipelines: make([]PipelineView, 0, len(graphs))}
	asReceiver, asExporter := map[string][]string{}, map[string][]string{}
	for _, g := range graphs {
		for _, id := range g.Receivers {
			asReceiver[id] = append(asReceiver[id], g.Name)
		}
		for _, id := range g.Exporters {
			asExporter[id] = append(asExporter[id], g.Name)
		}
	}
	if cur != nil {
		v.At = cur.At
	}
	for _, g := range graphs {
		it := items(g.Signal)
		pv := PipelineView{Name: g.Name, Signal: g.Signal, Receivers: []Component{}, Processors: []Component{}, Exporters: []Component{}}
		for _, id := range g.Receivers {
			m := is("receiver", id)
			pv.Receivers = append(pv.Receivers, Component{ID: id, Connects: connects(asExporter, asReceiver, id),
				Accepted: rate(prev, cur, "otelcol_receiver_accepted_"+it, m),
				Refused:  rate(prev, cur, "otelcol_receiver_refused_"+it, m),
				Failed:   rate(prev, cur, "otelcol_receiver_failed_"+it, m)})
		}
		for _, id := range g.Processors {
			m := is("processor", id, "otel_signal", g.Signal)
			pv.Processors = append(pv.Processors, Component{ID: id,
				Incoming: rate(prev, cur, "otelcol_processor_incoming_items", m),
				Outgoing: rate(prev, cur, "otelcol_processor_outgoing_items", m)})
		}
		for _, id := range g.Exporters {
			m := is("exporter", id)
			q := is("exporter", id, "data_type", g.Signal)
			pv.Exporters = append(pv.Exporters, Component{ID: id, Connects: connects(asReceiver, asExporter, id),
				Sent:          rate(prev, cur, "otelcol_exporter_sent_"+it, m),
				Failed:        rate(prev, cur, "otelcol_exporter_send_failed_"+it, m),
				QueueSize:     gauge(cur, "otelcol_exporter_queue_size", q),
				QueueCapacity: gauge(cur, "otelcol_exporter_queue_capacity", q)})
		}
		v.Pipelines = append(v.Pipelines, pv)
	}
	v.Breakers = breakers(cur)
	v.RateLimited = rateLimited(prev, cur)
	v.Shed = shed(prev, cur)
	v.Coverage = coverage(cur)
	return v
}

// connects returns the pipelines where id plays the other role (other
// holds them), when id is a connector: present in both maps.
func connects(other, same map[string][]string, id string) []string {
	if len(other[id]) == 0 || len(same[id]) == 0 {
		return nil
	}
	return other[id]
}

func breakers(cur *Sample) []Breaker {
	out := []Breaker{}
	cur.each(breakerstate.ExporterGauge, func(l map[string]string, v float64) {
		st := "unknown"
		if s := breakerstate.State(v); float64(s) == v && s >= breakerstate.Closed && s <= breakerstate.Open {
			st = s.String()
		}
		out = append(out, Breaker{Name: l[breakerstate.ExporterGaugeLabel], State: st})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// maxRateLimited bounds the rate-limited clients listed.
const maxRateLimited = 20

func rateLimited(prev, cur *Sample) []RateLimited {
	out := []RateLimited{}
	cur.each("obsd_ratelimit_requests_total", func(l map[string]string, v float64) {
		if l["outcome"] != "refused" || v <= 0 {
			return
		}
		r := RateLimited{Client: l["client"], Tier: l["tier"], Refused: v}
		if p := rate(prev, cur, "obsd_ratelimit_requests_total", exact(l)); p != nil {
			r.RefusedPerSecond = *p
		}
		out = append(out, r)
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].RefusedPerSecond != out[j].RefusedPerSecond {
			return out[i].RefusedPerSecond > out[j].RefusedPerSecond
		}
		return out[i].Client < out[j].Client
	})
	if len(out) > maxRateLimited {
		out = out[:maxRateLimited]
	}
	return out
}

func shed(prev, cur *Sample) []Shed {
	out := []Shed{}
	cur.each("obsd_shed_items_total", func(l map[string]string, v float64) {
		s := Shed{Signal: l["signal"], Reason: l["reason"], Items: v}
		if p := rate(prev, cur, "obsd_shed_items_total", exact(l)); p != nil {
			s.PerSecond = *p
		}
		out = append(out, s)
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Signal != out[j].Signal {
			return out[i].Signal < out[j].Signal
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

func coverage(cur *Sample) []Coverage {
	out := []Coverage{}
	cur.each("obsd_correlation_coverage_ratio", func(l map[string]string, v float64) {
		out = append(out, Coverage{Service: l["service"], Ratio: v})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}

// exact matches the series with exactly the labels of want.
func exact(want map[string]string) func(map[string]string) bool {
	return func(l map[string]string) bool {
		if len(l) != len(want) {
			return false
		}
		for k, v := range want {
			if l[k] != v {
				return false
			}
		}
		return true
	}
}
