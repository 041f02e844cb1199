package statuspage

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/obsd-dev/obsd/internal/configtest"
)

func TestConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "an empty section keeps the loopback defaults", File: "empty.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, "127.0.0.1:55680", c.Server.NetAddr.Endpoint)
				assert.Equal(t, 5*time.Second, c.Refresh)
				assert.Equal(t, 5*time.Second, c.Server.ReadHeaderTimeout)
				assert.Equal(t, 10*time.Second, c.Server.ReadTimeout)
				assert.Equal(t, 30*time.Second, c.Server.WriteTimeout)
				assert.Empty(t, c.MetricsURL)
				assert.Empty(t, c.GrafanaURL)
			},
		},
		{
			Name: "every key is read, the server's and the page's", File: "custom.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, "127.0.0.1:9999", c.Server.NetAddr.Endpoint)
				assert.Equal(t, 3*time.Second, c.Server.ReadHeaderTimeout)
				assert.Equal(t, 2*time.Second, c.Refresh)
				assert.Equal(t, "http://127.0.0.1:8889/metrics", c.MetricsURL)
				assert.Equal(t, "https://grafana.example/", c.GrafanaURL)
			},
		},
		{
			Name: "every invalid value is reported with its key", File: "invalid.yaml",
			ValidateErr: []string{"'endpoint' must not be empty", "'refresh' must be greater than zero",
				"'metrics_url'", "'grafana_url'"},
		},
		{Name: "a misspelt key is a decoding error", File: "unknown_key.yaml", DecodeErr: "refesh"},
	})
}
