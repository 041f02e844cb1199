package slo

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/obsd-dev/obsd/alerting"
)

func loadConfig(t *testing.T, file, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", file))
	require.NoError(t, err)
	sub, err := cm.Sub(component.MustNewIDWithName(Type.String(), name).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func TestLoadConfig(t *testing.T) {
	minimal := createDefaultConfig().(*Config)
	minimal.SLOs = []string{"testdata/slos.yaml"}

	full := createDefaultConfig().(*Config)
	full.SLOs = []string{"testdata/slo*.yaml"}
	full.EvaluationInterval = 5 * time.Second
	full.MaxFutureSkew = time.Minute
	full.State = StateConfig{Directory: "/var/lib/obsd/slo", SnapshotInterval: 30 * time.Second}
	walID := component.MustNewIDWithName("wal_storage", "queue")
	full.Storage = &walID
	al := alerting.DefaultConfig()
	full.Alerting = &al
	full.Alerting.AlertName = "CheckoutBurn"
	full.Alerting.Templates.RunbookURL = "https://runbooks.example/{{ .SLO }}"
	full.Alerting.Route = alerting.RouteConfig{Receiver: "oncall"}
	full.Alerting.Destinations = map[string]alerting.DestinationConfig{
		"oncall": {Webhook: &alerting.WebhookConfig{URL: "http://127.0.0.1:9/hook"}},
	}

	discovered := createDefaultConfig().(*Config)
	d := defaultDiscoverConfig()
	discovered.Discover = &d

	discoverFull := createDefaultConfig().(*Config)
	discoverFull.SLOs = []string{"testdata/slos.yaml"}
	discoverFull.Discover = &DiscoverConfig{Period: Duration(28 * 24 * time.Hour), ServiceLimit: 20,
		Labels:       map[string]string{"origin": "discovered"},
		Availability: DiscoveredSLOConfig{Enabled: true, Name: "svc-availability", Objective: 99.5, RunbookURL: "https://runbooks.example/availability"},
		Latency:      DiscoveredLatencyConfig{DiscoveredSLOConfig: DiscoveredSLOConfig{Enabled: false, Name: "svc-latency", Objective: 95}, Threshold: time.Second}}
	discoverFull.Gameday.Enabled = false

	tests := map[string]struct {
		name string
		want *Config
	}{
		"only the SLO files given gets every default":        {"", minimal},
		"every field can be set from the YAML":               {"full", full},
		"an empty discover section turns discovery on":       {"discover_empty", discovered},
		"discover: {} is the same":                           {"discover_braces", discovered},
		"every discover field can be set, next to SLO files": {"discover_full", discoverFull},
	}
	for desc, tt := range tests {
		t.Run(desc, func(t *testing.T) {
			cfg, err := loadConfig(t, "config.yaml", tt.name)
			require.NoError(t, err)
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, 30*time.Second, cfg.EvaluationInterval)
	assert.Equal(t, 10*time.Second, cfg.State.SnapshotInterval)
	assert.Equal(t, 10*time.Minute, cfg.MaxFutureSkew)
	assert.Empty(t, cfg.State.Directory, "no persistence by default")
	assert.False(t, cfg.hasAlerting(), "no alert destinations by default")
	assert.Nil(t, cfg.Discover, "no discovery unless asked for")
	assert.True(t, cfg.Gameday.Enabled, "game days count in game-day instances by default")
	d := defaultDiscoverConfig()
	assert.Equal(t, Duration(30*24*time.Hour), d.Period)
	assert.Equal(t, 100, d.ServiceLimit)
	assert.Equal(t, DiscoveredSLOConfig{Enabled: true, Name: "availability", Objective: 99.9}, d.Availability)
	assert.Equal(t, 500*time.Millisecond, d.Latency.Threshold)
	assert.Equal(t, 99.0, d.Latency.Objective)
	assert.Nil(t, cfg.Storage, "no journal by default")
}

func TestValidateErrors(t *testing.T) {
	tests := map[string]struct {
		name string
		want []string
	}{
		"no SLO files and no discovery is an error":         {"no_slos", []string{"'slos' must list at least one SLO file, or 'discover' be set"}},
		"an SLO file that does not exist is a config error": {"missing_file", []string{"'slos'", "does-not-exist.yaml"}},
		"zero intervals are refused, all at once": {"zero_intervals", []string{
			"'evaluation_interval' must be greater than zero",
			"'state.snapshot_interval' must be greater than zero",
			"'max_future_skew' must be greater than zero"}},
		"alert destinations need a state directory for their outboxes": {"alerting_without_state", []string{"'state.directory' is required"}},
		"the alerting section is validated when it has destinations":   {"alerting_unknown_receiver", []string{"nobody"}},
		"every discover problem is reported, naming its key": {"discover_invalid", []string{
			"'discover::period' must be at least 7d, got 1d",
			"'discover::service_limit' must be at least 1",
			"'discover::labels' has an invalid label name \"bad-name\"",
			"'discover::labels' must not set \"service\"",
			"'discover::availability::name' must match",
			"'discover::availability::objective' must be a percentage",
			"'discover::latency::threshold' must be greater than zero"}},
		"discovery with both kinds off is refused": {"discover_both_off", []string{"enables neither"}},
		"a discovered name that an SLO file uses is refused": {"discover_name_clash", []string{
			"discovered SLO name \"checkout-spans\" is also an SLO of testdata/slos.yaml"}},
		"a journal needs the snapshots that truncate it": {"storage_without_state", []string{"'state.directory' is required when 'storage' is set"}},
	}
	for desc, tt := range tests {
		t.Run(desc, func(t *testing.T) {
			cfg, err := loadConfig(t, "invalid.yaml", tt.name)
			require.NoError(t, err, "decoding must succeed; validation fails")
			err = confmap.Validate(cfg)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := map[string]struct {
		name string
		want string
	}{
		"an interval that is not a duration is a decode error": {"interval_not_duration", "evaluation_interval"},
		"an unknown key is a decode error":                     {"unknown_key", "evaluation"},
	}
	for desc, tt := range tests {
		t.Run(desc, func(t *testing.T) {
			_, err := loadConfig(t, "bad_type.yaml", tt.name)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestTheRepositoryExampleSLOFileLoads(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.SLOs = []string{filepath.Join("..", "..", "slo.example.yaml")}
	require.NoError(t, confmap.Validate(cfg))
}
