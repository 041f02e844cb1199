package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"

	"net/url"

	"net"

	sloconnector "github.com/obsd-dev/obsd/connectors/slo"
	"github.com/obsd-dev/obsd/extensions/statuspage"
	"github.com/obsd-dev/obsd/internal/configsource"
	"github.com/obsd-dev/obsd/slo/spec"
)

// target is what a drill needs to know of the obsd it runs against, read
// from the same config that obsd runs on.
type target struct {
	// otlpHTTP is the OTLP/HTTP traces URL, or "" when the receiver has
	// only gRPC (otlpGRPC, host:port).
	otlpHTTP, otlpGRPC string
	// statusURL is the status page's base URL.
	statusURL string
	// connector is the slo connector the spans reach, cfg its config and
	// slos its SLOs (files and discovered).
	connector component.ID
	cfg       *sloconnector.Config
	slos      []*spec.SLO
}

// resolveConfig resolves config URIs as obsd does (--config; the embedded
// default without any), with obsd's config sources.
func resolveConfig(ctx context.Context, uris []string) (*confmap.Conf, error) {
	if len(uris) == 0 {
		uris = []string{defaultConfigURI}
	}
	r, err := confmap.NewResolver(confmap.ResolverSettings{URIs: uris, DefaultScheme: "env",
		ProviderFactories: configsource.ProviderFactories(embeddedConfigs)})
	if err != nil {
		return nil, err
	}
	conf, err := r.Resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("could not read the config: %w", err)
	}
	return conf, nil
}

// readTargets finds, in a resolved config, every slo connector fed by an
// OTLP receiver through a traces pipeline, with the status page (status
// when set, else the config's statuspage extension).
func readTargets(conf *confmap.Conf, status string) ([]target, error) {
	if status == "" {
		var err error
		if status, err = statusPageURL(conf); err != nil {
			return nil, err
		}
	}
	pipes, err := conf.Sub("service::pipelines")
	if err != nil {
		return nil, err
	}
	var out []target
	var errs []error
	ids := slices.Sorted(maps.Keys(pipes.ToStringMap()))
	seen := map[component.ID]bool{}
	for _, pid := range ids {
		if typ, _, _ := strings.Cut(pid, "/"); typ != "traces" {
			continue
		}
		recvs := stringList(pipes.Get(pid + "::receivers"))
		for _, exp := range stringList(pipes.Get(pid + "::exporters")) {
			var id component.ID
			if err := id.UnmarshalText([]byte(exp)); err != nil || id.Type() != sloconnector.Type || seen[id] {
				continue
			}
			t, err := readTarget(conf, id, recvs)
			if err != nil {
				errs = append(errs, fmt.Errorf("connector %s (pipeline %s): %w", id, pid, err))
				continue
			}
			seen[id] = true
			t.statusURL = status
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		errs = append(errs, errors.New("no traces pipeline sends OTLP spans to an slo connector: a drill has nowhere to go"))
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// readTarget decodes connector id and finds the OTLP receiver among recvs.
func readTarget(conf *confmap.Conf, id component.ID, recvs []string) (target, error) {
	t := target{connector: id}
	var err error
	if t.cfg, t.slos, err = sloConnector(conf, id); err != nil {
		return t, err
	}
	for _, r := range recvs {
		var rid component.ID
		if err := rid.UnmarshalText([]byte(r)); err != nil || rid.Type().String() != "otlp" {
			continue
		}
		rsub, err := conf.Sub("receivers::" + r)
		if err != nil {
			return t, err
		}
		rc := otlpreceiver.NewFactory().CreateDefaultConfig().(*otlpreceiver.Config)
		if err := rsub.Unmarshal(rc); err != nil {
			return t, fmt.Errorf("receiver %s: %w", r, err)
		}
		if h := rc.Protocols.HTTP.Get(); h != nil {
			scheme := "http"
			if h.ServerConfig.TLS.HasValue() {
				scheme = "https"
			}
			t.otlpHTTP = scheme + "://" + dialable(h.ServerConfig.NetAddr.Endpoint) + string(h.TracesURLPath)
			return t, nil
		}
		if g := rc.Protocols.GRPC.Get(); g != nil && !g.TLS.HasValue() {
			t.otlpGRPC = dialable(g.NetAddr.Endpoint)
			return t, nil
		}
	}
	return t, fmt.Errorf("none of the pipeline's receivers (%s) is an OTLP receiver a drill can send to (OTLP/HTTP, or OTLP/gRPC without TLS); use --otlp", strings.Join(recvs, ", "))
}

// statusPageURL is the base URL of the enabled statuspage extension.
func statusPageURL(conf *confmap.Conf) (string, error) {
	for _, e := range stringList(conf.Get("service::extensions")) {
		var id component.ID
		if err := id.UnmarshalText([]byte(e)); err != nil || id.Type() != statuspage.Type {
			continue
		}
		sub, err := conf.Sub("extensions::" + e)
		if err != nil {
			return "", err
		}
		cfg := statuspage.NewFactory().CreateDefaultConfig().(*statuspage.Config)
		if err := sub.Unmarshal(cfg); err != nil {
			return "", fmt.Errorf("extension %s: %w", e, err)
		}
		scheme := "http"
		if cfg.Server.TLS.HasValue() {
			scheme = "https"
		}
		return scheme + "://" + dialable(cfg.Server.NetAddr.Endpoint), nil
	}
	return "", errors.New("the config enables no statuspage extension: a drill reads what obsd did from its JSON API; add it to service::extensions or use --status-url")
}

// dialable turns a listen address into one to connect to: an unspecified
// or empty host becomes 127.0.0.1.
func dialable(endpoint string) string {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return endpoint
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func stringList(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// sloConnector decodes the slo connector id of a resolved config and
// loads its SLOs (the files' and the discovered ones).
func sloConnector(conf *confmap.Conf, id component.ID) (*sloconnector.Config, []*spec.SLO, error) {
	sub, err := conf.Sub("connectors::" + id.String())
	if err != nil {
		return nil, nil, err
	}
	cfg := sloconnector.NewFactory().CreateDefaultConfig().(*sloconnector.Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	slos, _, err := cfg.LoadSLOs(id.String())
	return cfg, slos, err
}

// configSLOs returns the SLOs of every slo connector of the config at
// uris, once per name (two connectors discovering with the same names
// share one dashboard).
func configSLOs(ctx context.Context, uris []string) ([]*spec.SLO, error) {
	conf, err := resolveConfig(ctx, uris)
	if err != nil {
		return nil, err
	}
	conns, err := conf.Sub("connectors")
	if err != nil {
		return nil, err
	}
	var out []*spec.SLO
	seen := map[string]bool{}
	for _, key := range slices.Sorted(maps.Keys(conns.ToStringMap())) {
		var id component.ID
		if err := id.UnmarshalText([]byte(key)); err != nil || id.Type() != sloconnector.Type {
			continue
		}
		_, slos, err := sloConnector(conf, id)
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", id, err)
		}
		for _, s := range slos {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the config has no slo connector with an SLO")
	}
	return out, nil
}

// otlpAddr is the host:port a drill's spans go to.
func (t target) otlpAddr() string {
	if t.otlpHTTP == "" {
		return t.otlpGRPC
	}
	u, err := url.Parse(t.otlpHTTP)
	if err != nil {
		return t.otlpHTTP
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}
