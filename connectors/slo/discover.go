package slo

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/alerting"
	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// DiscoverConfig makes the connector give every service that sends server
// or consumer spans an availability SLO and a latency SLO, found at run
// time: one SLO spec per kind, grouped by service (one instance per
// service.name, capped at ServiceLimit). A service that has SLOs of its
// own in the 'slos' files is left out of discovery.
type DiscoverConfig struct {
	// Period is the rolling compliance period, in Prometheus notation
	// (default 30d). The alert windows are the SRE Workbook's, scaled to it.
	Period Duration `mapstructure:"period"`
	// ServiceLimit caps the services each discovered SLO keeps an instance
	// for (default 100); further services share one overflow instance
	// (service "__overflow__"), counted in obsd_slo_group_overflow_total.
	ServiceLimit int `mapstructure:"service_limit"`
	// Labels are added to every discovered SLO's metrics and alerts.
	Labels map[string]string `mapstructure:"labels"`
	// Availability: a span is bad when its status is Error or its HTTP
	// response status is 5xx.
	Availability DiscoveredSLOConfig `mapstructure:"availability"`
	// Latency: a span is bad when it lasts longer than Threshold.
	Latency DiscoveredLatencyConfig `mapstructure:"latency"`
}

// DiscoveredSLOConfig is one kind of discovered SLO.
type DiscoveredSLOConfig struct {
	// Enabled turns this kind on (default true).
	Enabled bool `mapstructure:"enabled"`
	// Name is the SLO name (the slo label), unique among all SLOs.
	Name string `mapstructure:"name"`
	// Objective is the target in percent, e.g. 99.9.
	Objective float64 `mapstructure:"objective"`
	// RunbookURL is the page alerts link to (runbook_url annotation).
	RunbookURL string `mapstructure:"runbook_url"`
}

// DiscoveredLatencyConfig is the latency kind: a threshold on top.
type DiscoveredLatencyConfig struct {
	DiscoveredSLOConfig `mapstructure:",squash"`
	// Threshold: spans longer than this are bad (default 500ms).
	Threshold time.Duration `mapstructure:"threshold"`
}

// Duration is a duration written in Prometheus notation ("30d", "1h30m").
type Duration time.Duration

// UnmarshalText reads a Prometheus duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := model.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration in Prometheus notation.
func (d Duration) MarshalText() ([]byte, error) { return []byte(model.Duration(d).String()), nil }

// Discovery defaults.
const (
	DefaultDiscoverServiceLimit  = 100
	DefaultAvailabilityName      = "availability"
	DefaultLatencyName           = "latency"
	DefaultAvailabilityObjective = 99.9
	DefaultLatencyObjective      = 99
	DefaultLatencyThreshold      = 500 * time.Millisecond
)

// defaultDiscoverConfig is what an empty 'discover:' section means.
func defaultDiscoverConfig() DiscoverConfig {
	return DiscoverConfig{
		Period:       Duration(spec.DefaultPeriod),
		ServiceLimit: DefaultDiscoverServiceLimit,
		Availability: DiscoveredSLOConfig{Enabled: true, Name: DefaultAvailabilityName, Objective: DefaultAvailabilityObjective},
		Latency: DiscoveredLatencyConfig{Threshold: DefaultLatencyThreshold,
			DiscoveredSLOConfig: DiscoveredSLOConfig{Enabled: true, Name: DefaultLatencyName, Objective: DefaultLatencyObjective}},
	}
}

// sloNameRe is the SLO name rule of obsd's SLO files.
var sloNameRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$`)

// labelNameRe is Prometheus' label name rule.
var labelNameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// reservedLabels are set by obsd on every SLO series or alert.
var reservedLabels = []string{contract.LabelSLO, contract.LabelService, contract.LabelWindow, contract.LabelSeverity,
	contract.LabelGameday, contract.LabelGamedayDrill, alerting.LabelAlertName, alerting.LabelLongWindow, alerting.LabelShortWindow}

// validate returns every problem, quoting the keys under 'discover'.
func (d *DiscoverConfig) validate() []error {
	var errs []error
	p := time.Duration(d.Period)
	if p < 7*24*time.Hour {
		// The page windows are 1h/5m and 6h/30m; a shorter period scales
		// their factors below anything that could page.
		errs = append(errs, fmt.Errorf("'discover::period' must be at least 7d, got %s", model.Duration(p)))
	}
	if d.ServiceLimit < 1 {
		errs = append(errs, fmt.Errorf("'discover::service_limit' must be at least 1, got %d", d.ServiceLimit))
	}
	keys := slices.Sorted(maps.Keys(d.Labels))
	for _, k := range keys {
		switch {
		case !labelNameRe.MatchString(k):
			errs = append(errs, fmt.Errorf("'discover::labels' has an invalid label name %q (want %s)", k, labelNameRe))
		case slices.Contains(reservedLabels, k):
			errs = append(errs, fmt.Errorf("'discover::labels' must not set %q: obsd sets it", k))
		}
	}
	kinds := []struct {
		key string
		c   DiscoveredSLOConfig
	}{{"availability", d.Availability}, {"latency", d.Latency.DiscoveredSLOConfig}}
	for _, k := range kinds {
		if !k.c.Enabled {
			continue
		}
		if !sloNameRe.MatchString(k.c.Name) {
			errs = append(errs, fmt.Errorf("'discover::%s::name' must match %s, got %q", k.key, sloNameRe, k.c.Name))
		}
		if !(k.c.Objective > 0 && k.c.Objective < 100) {
			errs = append(errs, fmt.Errorf("'discover::%s::objective' must be a percentage strictly between 0 and 100, got %v", k.key, k.c.Objective))
		}
	}
	if d.Availability.Enabled && d.Latency.Enabled && d.Availability.Name == d.Latency.Name {
		errs = append(errs, fmt.Errorf("'discover::availability::name' and 'discover::latency::name' are both %q", d.Latency.Name))
	}
	if d.Latency.Enabled && d.Latency.Threshold <= 0 {
		errs = append(errs, errors.New("'discover::latency::threshold' must be greater than zero"))
	}
	if !d.Availability.Enabled && !d.Latency.Enabled {
		errs = append(errs, errors.New("'discover' enables neither 'availability' nor 'latency'"))
	}
	return errs
}

// specs returns the discovered SLOs, counting every service but except
// (the services of explicit SLOs). source names them for messages.
func (d *DiscoverConfig) specs(except []string, source string) []*spec.SLO {
	period := time.Duration(d.Period)
	mk := func(c DiscoveredSLOConfig, desc string, sli *spec.SpanSLI) *spec.SLO {
		page, ticket := spec.DefaultWindowPairs(period)
		sli.AnyService, sli.ExceptServices = true, except
		return &spec.SLO{Name: c.Name, Description: desc, Objective: percentToRatio(c.Objective), Period: period,
			GroupByLimit: d.ServiceLimit, Labels: d.Labels, SLI: spec.SLI{Spans: sli}, Source: source,
			Alerting: spec.Alerting{Name: c.Name, RunbookURL: c.RunbookURL, MinEvents: spec.DefaultMinEvents,
				Page: spec.Severity{Enabled: true, Windows: page}, Ticket: spec.Severity{Enabled: true, Windows: ticket}}}
	}
	var out []*spec.SLO
	if d.Availability.Enabled {
		out = append(out, mk(d.Availability, "Discovered: the server and consumer spans of each service; bad when their status is Error or their HTTP status 5xx.",
			&spec.SpanSLI{StatusError: true, HTTP5xx: true}))
	}
	if d.Latency.Enabled {
		out = append(out, mk(d.Latency.DiscoveredSLOConfig,
			fmt.Sprintf("Discovered: the server and consumer spans of each service; bad when they last longer than %s.", d.Latency.Threshold),
			&spec.SpanSLI{DurationOver: d.Latency.Threshold}))
	}
	return out
}

// percentToRatio turns 99.9 into 0.999 without float noise, as the SLO
// files' objectives are read.
func percentToRatio(p float64) float64 { return math.Round(p*1e9) / 1e11 }

// explicitServices lists the services the SLO files declare SLOs for,
// sorted: discovery leaves them out.
func explicitServices(slos []*spec.SLO) []string {
	seen := map[string]bool{}
	for _, s := range slos {
		seen[s.Service] = true
		if s.SLI.Spans != nil {
			seen[s.SLI.Spans.Service] = true
		}
		if s.SLI.Logs != nil {
			seen[s.SLI.Logs.Service] = true
		}
	}
	delete(seen, "")
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// checkDiscoveredNames reports discovered SLO names that an SLO file
// declares too.
func checkDiscoveredNames(explicit, discovered []*spec.SLO) []error {
	var errs []error
	for _, d := range discovered {
		for _, e := range explicit {
			if e.Name == d.Name {
				errs = append(errs, fmt.Errorf("'discover': the discovered SLO name %q is also an SLO of %s: rename one", d.Name, e.Source))
			}
		}
	}
	return errs
}

// feedDiscovered reads the server and consumer spans of one resource of
// service svc into b, for the discovered SLOs' instance of that service, created
// with its first such span: a service that sends only client spans gets
// none. The instance is looked up once per resource, not per span.
func (s *runner) feedDiscovered(b *sloengine.Batch, rs ptrace.ResourceSpans, svc string, now, limit time.Time) {
	gh := sloengine.HashString(sloengine.HashString(sloengine.HashSeed, svc), "\xff")
	group := func() map[string]string { return map[string]string{contract.LabelService: svc} }
	for i := range s.discovered {
		c := &s.discovered[i]
		var in *sloengine.Instance
		var n uint64
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				sp := spans.At(k)
				if !serverOrConsumer(sp) {
					continue
				}
				if in == nil {
					in = s.engine.Instance(c.idx, gh, group, now)
				}
				if end, bad, ok := s.spanEvent(c.spec.SLI.Spans, sp, limit); ok {
					b.AddEvents(in, end, 1, bad)
					n++
				}
			}
		}
		if in != nil && in.Overflow() && n > 0 {
			s.overflowed(*c, n)
		}
	}
}
