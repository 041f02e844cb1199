// Package pipeline builds the status page's pipeline view: the pipelines of
// the effective collector config, and per-component rates computed from two
// scrapes of obsd's own Prometheus self-metrics. It has no collector
// imports.
package pipeline

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// Graph is one pipeline of the config, its components in data order.
type Graph struct {
	Name       string
	Signal     string // traces, metrics, logs (or profiles)
	Receivers  []string
	Processors []string
	Exporters  []string
}

// FromConfig reads service::pipelines from an effective config (as
// confmap.Conf.ToStringMap returns it), sorted by pipeline name. Entries
// that are not lists of strings are skipped, never a panic.
func FromConfig(conf map[string]any) []Graph {
	pipes, _ := path(conf, "service", "pipelines").(map[string]any)
	out := make([]Graph, 0, len(pipes))
	for name, v := range pipes {
		p, _ := v.(map[string]any)
		signal, _, _ := strings.Cut(name, "/")
		out = append(out, Graph{Name: name, Signal: signal,
			Receivers: strs(p["receivers"]), Processors: strs(p["processors"]), Exporters: strs(p["exporters"])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// MetricsURL returns the URL of the first Prometheus pull reader under
// service::telemetry::metrics::readers, or "" when there is none.
func MetricsURL(conf map[string]any) string {
	readers, _ := path(conf, "service", "telemetry", "metrics", "readers").([]any)
	for _, r := range readers {
		prom, ok := path(r, "pull", "exporter", "prometheus").(map[string]any)
		if !ok {
			continue
		}
		host, _ := prom["host"].(string)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		port := fmt.Sprint(prom["port"])
		if _, err := strconv.Atoi(port); err != nil {
			continue
		}
		return "http://" + net.JoinHostPort(host, port) + "/metrics"
	}
	return ""
}

func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
