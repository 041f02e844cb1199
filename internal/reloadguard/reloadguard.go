// Package reloadguard makes the collector's config reloads (SIGHUP, or a
// watching config source) safe: a reloaded config is validated before the
// collector sees it, and a bad one is replaced by the config in force, so
// obsd keeps running on it instead of exiting. It also counts reloads as
// obsd_config_reloads_total.
package reloadguard

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
	"go.uber.org/zap"
	"go.yaml.in/yaml/v3"
)

// Guard makes config reloads (SIGHUP, or a watching provider) safe.
// The upstream collector shuts its pipelines down before it looks at a new
// config and exits when that config is bad (collector #11817). obsd
// validates the fully resolved new config first: a bad one is refused with a
// logged error, and the collector is handed the previous config again, so
// it keeps running on it. With receiver partial reload enabled (obsd's
// default) an unchanged config restarts nothing.
//
// It is a confmap.Converter: converters see the whole merged config after
// every source is resolved and before it is decoded.
type Guard struct {
	// validate checks a whole resolved config as `obsd validate` would.
	validate func(ctx context.Context, conf *confmap.Conf) error

	mu       sync.Mutex
	lastGood map[string]any // the config the collector runs on now

	// refused and applied count reloads; they are read without mu, by the
	// obsd_config_reloads_total callback, while a validation holds mu.
	refused atomic.Int64
	applied atomic.Int64
}

// New returns a guard that checks every reloaded config with validate
// (DryRunValidator in obsd).
func New(validate func(ctx context.Context, conf *confmap.Conf) error) *Guard {
	return &Guard{validate: validate}
}

// ConverterFactory is the guard as a confmap converter, to be appended to
// the collector's ResolverSettings.ConverterFactories.
func (g *Guard) ConverterFactory() confmap.ConverterFactory {
	return confmap.NewConverterFactory(func(set confmap.ConverterSettings) confmap.Converter {
		return &converter{guard: g, logger: set.Logger}
	})
}

type converter struct {
	guard  *Guard
	logger *zap.Logger
}

// Convert lets the first config through untouched (the collector reports
// its errors and refuses to start, as usual) and checks every later one.
func (c *converter) Convert(ctx context.Context, conf *confmap.Conf) error {
	g := c.guard
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lastGood == nil {
		g.keep(conf)
		return nil
	}
	if err := g.validate(ctx, conf); err != nil {
		refused := g.refused.Add(1)
		c.logger.Error("Refusing the reloaded config: it is invalid; obsd keeps running on the previous config. Fix the config and reload again.",
			zap.Error(err), zap.Int64("refused_reloads", refused))
		*conf = *confmap.NewFromStringMap(g.lastGood)
		return nil
	}
	if reflect.DeepEqual(conf.ToStringMap(), g.lastGood) {
		// The config in force again: a reload that changes nothing, or the
		// collector resolving a config it just saw once more (a full
		// restart resolves twice). Not counted.
		g.keep(conf)
		return nil
	}
	applied := g.applied.Add(1)
	g.keep(conf)
	c.logger.Info("Reloaded config is valid; applying it.", zap.Int64("applied_reloads", applied))
	return nil
}

// keep remembers conf as the config in force, and rewrites conf from that
// copy, so that every config the collector sees (the first, an applied one,
// a refused one replaced by the previous) has one representation and the
// collector's change detection compares like with like.
func (g *Guard) keep(conf *confmap.Conf) {
	g.lastGood = conf.ToStringMap()
	*conf = *confmap.NewFromStringMap(g.lastGood)
}

// DryRunValidator validates a resolved config with the collector's own
// checks (decoding, every component's Validate, the pipeline graph) by
// building a throwaway collector on it, without starting anything.
func DryRunValidator(settings func() otelcol.CollectorSettings) func(context.Context, *confmap.Conf) error {
	return func(ctx context.Context, conf *confmap.Conf) error {
		raw, err := yaml.Marshal(conf.ToStringMap())
		if err != nil {
			return fmt.Errorf("could not re-encode the resolved config: %w", err)
		}
		set := settings()
		set.ConfigProviderSettings = otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				URIs:              []string{"yaml:" + string(raw)},
				ProviderFactories: []confmap.ProviderFactory{yamlprovider.NewFactory()},
				DefaultScheme:     "yaml",
			},
		}
		col, err := otelcol.NewCollector(set)
		if err != nil {
			return err
		}
		return col.DryRun(ctx)
	}
}
