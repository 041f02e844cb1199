package correlation

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, file, id string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", file))
	require.NoError(t, err)
	sub, err := cm.Sub(component.MustNewIDWithName(Type.String(), id).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func TestLoadConfig(t *testing.T) {
	custom := createDefaultConfig().(*Config)
	custom.Sources = []string{SourceBody, SourceAttributes}
	custom.Keys = []KeyConfig{
		{Format: FormatTraceparent, Trace: "traceparent", CaseInsensitive: true},
		{Format: FormatHex, Trace: "trace_id", Span: "span_id"},
	}
	custom.CorrelationKeys = []string{"request_id"}
	custom.CorrelationAttribute = "req.id"
	custom.DefaultPolicy = PolicyConfig{Name: "default", Action: ActionTag}
	custom.Policies = []PolicyConfig{
		{Name: "payments", Match: map[string][]string{"service.name": {"payments", "checkout"}, "k8s.namespace.name": {"prod"}}, Action: ActionDrop, ExemptMinSeverity: "error"},
		{Name: "quarantine", Match: map[string][]string{"k8s.namespace.name": {"staging"}}, Action: ActionRoute},
	}
	custom.Orphans = OrphansConfig{Enabled: true, Window: 30 * time.Second, MaxEntries: 1000}
	custom.MaxServices = 50

	tests := map[string]struct {
		id   string
		want *Config
	}{
		"an empty entry gets the defaults":     {"", createDefaultConfig().(*Config)},
		"every field can be set from the YAML": {"custom", custom},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := loadConfig(t, "config.yaml", tt.id)
			require.NoError(t, err)
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	cfg, err := loadConfig(t, "invalid.yaml", "")
	require.NoError(t, err)
	err = confmap.Validate(cfg)
	require.Error(t, err)
	for _, want := range []string{
		"'sources[0]' \"headers\" must be attributes or body",
		"'keys[0].format' \"base64\" must be one of",
		"'keys[0].trace' must not be empty",
		"'keys[0].span' is only allowed with format hex or datadog",
		"'keys[1].span' is only allowed with format hex or datadog",
		"'correlation_attribute' must not be empty",
		"'default_policy.action' \"shout\" must be one of",
		"'policies[0].match' must not be empty",
		"'policies[0].name' must not be empty",
		"'policies[0].exempt_min_severity'",
		"'orphans.window' must be greater than zero",
		"'orphans.max_entries' must be greater than zero",
		"'max_services' must be greater than zero",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestConfigDecodeErrorsAreNotValidationErrors(t *testing.T) {
	_, err := loadConfig(t, "bad_type.yaml", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "window")
}

func TestConfigValidateEdgeCases(t *testing.T) {
	tests := map[string]struct {
		mutate func(*Config)
		want   string
	}{
		"the default config is valid": {func(*Config) {}, ""},
		"no keys is an error":         {func(c *Config) { c.Keys = nil }, "'keys' must not be empty"},
		"no sources is an error":      {func(c *Config) { c.Sources = nil }, "'sources' must not be empty"},
		"a route policy needs a route attribute": {func(c *Config) {
			c.DefaultPolicy.Action = ActionRoute
			c.Route = RouteConfig{}
		}, "'route.attribute' and 'route.value' must be set"},
		"too many keys are an error": {func(c *Config) {
			for range 40 {
				c.Keys = append(c.Keys, KeyConfig{Format: FormatHex, Trace: "t", Span: "s"})
			}
		}, "at most 64 are allowed"},
		"a numeric severity is accepted": {func(c *Config) { c.DefaultPolicy.ExemptMinSeverity = "17" }, ""},
		"severity 25 is out of range":    {func(c *Config) { c.DefaultPolicy.ExemptMinSeverity = "25" }, "number from 1 to 24"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tt.mutate(cfg)
			err := cfg.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
