package loki

import (
	"github.com/obsd-dev/obsd/internal/configtest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestDefaultConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	assert.Equal(t, NewFactory().CreateDefaultConfig(), cfg)
	c := cfg.(*Config)
	assert.Equal(t, []string{"service.name", "service.namespace", "k8s.namespace.name", "level"}, c.Labels)
	assert.True(t, c.QueueConfig.HasValue(), "the sending queue is on by default")
	assert.True(t, c.RetryConfig.Enabled)
	assert.Equal(t, 4<<20, c.MaxRequestSize, "pushes are bounded by default")
	assert.ErrorContains(t, c.Validate(), "'endpoint' must be set", "there is no sensible default Loki")
}

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "every field set in YAML reaches the config, including a persistent queue",
			File: "config_full.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, "http://127.0.0.1:3100/loki/api/v1/push", c.ClientConfig.Endpoint)
				assert.Equal(t, 5*time.Second, c.ClientConfig.Timeout)
				assert.Equal(t, "team-a", c.TenantID)
				assert.Equal(t, []string{"k8s.namespace.name"}, c.TenantAttributes)
				assert.Equal(t, "fallback", c.DefaultTenant)
				assert.Equal(t, map[string]string{"team-a": "12", "team-b": "12:3"}, c.TenantMap)
				assert.Equal(t, 1<<20, c.MaxRequestSize)
				assert.Equal(t, []string{"service.name", "deployment.environment", "level"}, c.Labels)
				assert.Equal(t, time.Second, c.RetryConfig.InitialInterval)
				require.True(t, c.QueueConfig.HasValue())
				q := c.QueueConfig.Get()
				require.NotNil(t, q.StorageID)
				assert.Equal(t, "file_storage", q.StorageID.String())
				assert.Equal(t, int64(5000), q.QueueSize)
			},
		},
		{
			Name: "all invalid fields are reported together, quoting their keys",
			File: "config_invalid.yaml",
			ValidateErr: []string{
				`'endpoint' "localhost:3100" must be an http or https URL`,
				"'tenant_id' must be a single tenant",
				"'labels' must not contain an empty key",
				`'labels' keys "service.name" and "service_name" both become the label "service_name"`,
				`'labels' must not contain "loki.tenant"`,
				"'default_tenant' must be a single tenant",
				"'tenant_attributes' must not contain an empty key",
				`'tenant_map' maps "team-a" to ""`,
				"'tenant_map' must not contain an empty tenant name",
				"'max_request_size' is -1",
			},
		},
		{
			Name:        "a missing endpoint is an error",
			File:        "config_empty_endpoint.yaml",
			ValidateErr: []string{"'endpoint' must be set"},
		},
	})
}

func TestPushURL(t *testing.T) {
	tests := []struct{ name, endpoint, want string }{
		{"an endpoint without a path gets Loki's push path", "http://loki:3100", "http://loki:3100/loki/api/v1/push"},
		{"an endpoint with only a slash gets Loki's push path", "https://loki:3100/", "https://loki:3100/loki/api/v1/push"},
		{"an endpoint with a path is used as is", "http://gw/tenant/push", "http://gw/tenant/push"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{}
			c.ClientConfig.Endpoint = tt.endpoint
			assert.Equal(t, tt.want, c.pushURL())
		})
	}
}
