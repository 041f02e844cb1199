package alerting

import (
	"fmt"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
)

// Route is a node of the runtime route tree, built from a validated
// RouteConfig as in Alertmanager's dispatch/route.go.
type Route struct {
	Receiver string
	Matchers labels.Matchers
	Continue bool
	Routes   []*Route
}

// NewRoute builds the runtime tree of a root route. The root must name a
// receiver (the default) and have no matchers; every receiver must be one of
// destinations.
func NewRoute(cfg RouteConfig, destinations map[string]DestinationConfig) (*Route, error) {
	return newRoute(cfg, nil, "route", destinations)
}

func newRoute(cfg RouteConfig, parent *Route, key string, dests map[string]DestinationConfig) (*Route, error) {
	r := &Route{Receiver: cfg.Receiver, Continue: cfg.Continue}
	if parent == nil {
		if cfg.Receiver == "" {
			return nil, fmt.Errorf("'%s::receiver' must name the default destination", key)
		}
		if len(cfg.Matchers) > 0 {
			return nil, fmt.Errorf("'%s::matchers' must be empty on the root route", key)
		}
		if cfg.Continue {
			return nil, fmt.Errorf("'%s::continue' cannot be set on the root route", key)
		}
	} else if r.Receiver == "" {
		r.Receiver = parent.Receiver
	}
	if _, ok := dests[r.Receiver]; !ok {
		return nil, fmt.Errorf("'%s::receiver' names unknown destination %q", key, r.Receiver)
	}
	for i, s := range cfg.Matchers {
		ms, err := labels.ParseMatchers(s)
		if err != nil {
			return nil, fmt.Errorf("'%s::matchers[%d]' %q: %w", key, i, s, err)
		}
		r.Matchers = append(r.Matchers, ms...)
	}
	for i, child := range cfg.Routes {
		c, err := newRoute(child, r, fmt.Sprintf("%s::routes[%d]", key, i), dests)
		if err != nil {
			return nil, err
		}
		r.Routes = append(r.Routes, c)
	}
	return r, nil
}

// Match returns the routes matching lset, depth first: a matching node's
// children are tried first and the node itself matches only when none of
// them did; siblings after a match are tried only when it has Continue.
func (r *Route) Match(lset model.LabelSet) []*Route {
	if !r.Matchers.Matches(lset) {
		return nil
	}
	var all []*Route
	for _, c := range r.Routes {
		matches := c.Match(lset)
		all = append(all, matches...)
		if matches != nil && !c.Continue {
			break
		}
	}
	if len(all) == 0 {
		all = append(all, r)
	}
	return all
}

// Receivers returns the distinct destination names lset is routed to, in
// match order.
func (r *Route) Receivers(lset model.LabelSet) []string {
	matches := r.Match(lset)
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		dup := false
		for _, o := range out {
			if o == m.Receiver {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, m.Receiver)
		}
	}
	return out
}

// String renders the route for debugging.
func (r *Route) String() string {
	var b strings.Builder
	r.write(&b, 0)
	return b.String()
}

func (r *Route) write(b *strings.Builder, depth int) {
	fmt.Fprintf(b, "%s%s %s continue=%v\n", strings.Repeat("  ", depth), r.Receiver, r.Matchers, r.Continue)
	for _, c := range r.Routes {
		c.write(b, depth+1)
	}
}
