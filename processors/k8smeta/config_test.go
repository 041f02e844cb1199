package k8smeta

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/internal/configtest"
)

func TestDefaultConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	c := cfg.(*Config)
	assert.Equal(t, SourceAPIServer, c.Source.Kind)
	assert.Equal(t, []string{AssociatePodUID, AssociatePodIP, AssociateConnection}, c.Association)
	assert.True(t, c.ServiceNameFallback)
	assert.ErrorContains(t, c.Validate(), "'node_name' is required with 'source.kind: apiserver'",
		"listing every pod of the cluster from every node must be refused")
}

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "every field set in YAML reaches the config",
			File: "config_full.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, "node-a", c.NodeName)
				assert.Equal(t, []string{AssociateConnection, AssociatePodIP}, c.Association)
				assert.False(t, c.ServiceNameFallback)
				assert.Equal(t, SourceConfig{
					Kind: SourceKubelet, Endpoint: "https://10.0.0.5:10250", PollInterval: 30 * time.Second,
					Timeout: 2 * time.Second, TokenFile: "/tmp/token", InsecureSkipVerify: true, MaxPods: 250, MaxResponseBytes: 1 << 20,
				}, c.Source)
			},
		},
		{
			Name: "all invalid fields are reported together, quoting their keys",
			File: "config_invalid.yaml",
			ValidateErr: []string{
				`'association[1]' "pod.name" must be k8s.pod.uid, k8s.pod.ip or connection`,
				`'association[2]' "k8s.pod.uid" is listed twice`,
				"'node_name' is required with 'source.kind: apiserver'",
				`'source.endpoint' "kubernetes.default.svc" must be an http or https URL`,
				"'source.poll_interval' must be greater than zero",
				"'source.timeout' must be greater than zero",
				"'source.max_pods' must be greater than zero",
				"'source.max_response_bytes' must be greater than zero",
			},
		},
		{
			Name:        "the kubelet source needs an endpoint",
			File:        "config_kubelet_no_endpoint.yaml",
			ValidateErr: []string{"'source.endpoint' is required with 'source.kind: kubelet'"},
		},
		{
			Name:        "a pod source with no way to find pods is refused",
			File:        "config_no_association.yaml",
			ValidateErr: []string{"'association' must list at least one"},
		},
		{
			Name:        "an unknown source kind is refused",
			File:        "config_bad_kind.yaml",
			ValidateErr: []string{`'source.kind' "informer" must be apiserver, kubelet or none`},
		},
		{
			Name: "source none needs no node name",
			File: "config_none.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, SourceNone, c.Source.Kind)
			},
		},
		{
			Name:      "a duration that is not one is a decode error",
			File:      "config_bad_type.yaml",
			DecodeErr: "poll_interval",
		},
	})
}
