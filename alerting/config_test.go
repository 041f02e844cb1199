package alerting

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
)

// loadConfig decodes testdata/<name> over DefaultConfig the way the
// collector's confmap does (strict, durations as strings).
func loadConfig(t *testing.T, name string) (Config, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, yaml.Unmarshal(data, &raw))
	cfg := DefaultConfig()
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:  mapstructure.StringToTimeDurationHookFunc(),
		ErrorUnused: true,
		Result:      &cfg,
		TagName:     "mapstructure",
	})
	require.NoError(t, err)
	return cfg, dec.Decode(raw)
}

func TestConfigFull(t *testing.T) {
	cfg, err := loadConfig(t, "full.yaml")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "SLOBurn", cfg.AlertName)
	assert.Equal(t, 30*time.Second, cfg.ResendInterval)
	assert.Equal(t, 3*time.Minute, cfg.endsAtLead())
	assert.Equal(t, []string{"http://127.0.0.1:9093", "http://127.0.0.1:9094/"}, cfg.Destinations["am"].Alertmanager.URLs)
	assert.Equal(t, "secret", cfg.Destinations["am"].Alertmanager.BasicAuth.Password)
	assert.Equal(t, "1.3", cfg.Destinations["am"].Alertmanager.TLS.MinVersion)
	assert.Equal(t, &FallbackConfig{Destination: "hook", After: 2 * time.Minute}, cfg.Destinations["am"].Fallback)
	assert.Equal(t, "/run/secrets/token", cfg.Destinations["hook"].Webhook.BearerTokenFile)
	assert.Equal(t, BreakerConfig{FailureThreshold: 3, OpenDuration: 10 * time.Second, SuccessThreshold: 2}, cfg.Delivery.Breaker)
	require.Len(t, cfg.Route.Routes, 2)
	assert.True(t, cfg.Route.Routes[0].Continue)
}

func TestConfigMinimalGetsDefaults(t *testing.T) {
	cfg, err := loadConfig(t, "minimal.yaml")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, DefaultAlertName, cfg.AlertName)
	assert.Equal(t, time.Minute, cfg.ResendInterval)
	assert.Equal(t, 4*time.Minute, cfg.endsAtLead(), "endsAt lead defaults to four resend intervals")
	assert.Equal(t, DefaultSummaryTemplate, cfg.Templates.Summary)
	assert.Equal(t, 10000, cfg.Delivery.MaxQueued)
}

func TestConfigDecodeErrorIsNotAValidationError(t *testing.T) {
	_, err := loadConfig(t, "decode_error.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "resend_interval")
}

func TestConfigValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"a template that does not parse is a config error", "bad_template_parse.yaml",
			[]string{"'templates::runbook_url'"}},
		{"a template that fails on the sample transition is a config error", "bad_template_exec.yaml",
			[]string{"'templates::dashboard_url' fails on a sample transition", "NoSuchField"}},
		{"a matcher Alertmanager cannot parse is reported with its route path", "bad_matcher.yaml",
			[]string{"'route::routes[0]::matchers[0]'"}},
		{"a route naming an unknown destination is refused", "unknown_receiver.yaml",
			[]string{`'route::routes[0]::receiver' names unknown destination "pager"`}},
		{"the root route needs a receiver and no matchers", "bad_root_route.yaml",
			[]string{"'route::receiver' must name the default destination"}},
		{"every destination problem is reported at once", "bad_destinations.yaml", []string{
			"'destinations::both' must set only one of 'alertmanager' or 'webhook'",
			"'destinations::none' must set one of 'alertmanager' or 'webhook'",
			"'destinations::badurl::alertmanager::urls[0]'",
			"'destinations::badurl::alertmanager::urls[1]'",
			"'destinations::badurl::alertmanager' must set at most one of 'bearer_token' and 'bearer_token_file'",
			"'destinations::badurl::alertmanager::tls' must set both 'cert_file' and 'key_file'",
			"'destinations::badurl::alertmanager::tls::min_version'",
			`'destinations::nofallback::fallback::destination' names unknown destination "nowhere"`,
			"'destinations::nofallback::fallback::after' must be greater than zero",
		}},
		{"a fallback chain that loops is refused", "fallback_cycle.yaml",
			[]string{"'destinations::a::fallback' forms a cycle", "'destinations::b::fallback' forms a cycle"}},
		{"bad numbers are all reported", "bad_numbers.yaml", []string{
			"'alertname' must not be empty",
			"'resend_interval' must be greater than zero",
			"'resolved_retention' must not be negative",
			"'delivery.timeout' must be greater than zero",
			"'delivery.initial_backoff' must be greater than zero",
			"'delivery.max_queued' must be greater than zero",
			"'delivery.breaker.failure_threshold' must be greater than zero",
			"'delivery.breaker.open_duration' must be greater than zero",
			"'delivery.breaker.success_threshold' must be greater than zero",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tt.file)
			require.NoError(t, err, "the file must decode; only validation may fail")
			err = cfg.Validate()
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestEndsAtLeadMustExceedResendInterval(t *testing.T) {
	cfg, err := loadConfig(t, "minimal.yaml")
	require.NoError(t, err)
	cfg.EndsAtLead = cfg.ResendInterval
	require.ErrorContains(t, cfg.Validate(), "'ends_at_lead' must be longer than 'resend_interval'")
}
