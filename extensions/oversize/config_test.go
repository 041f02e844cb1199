package oversize

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/obsd-dev/obsd/internal/configtest"
)

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name:  "an empty config is the whole config",
			File:  "config_empty.yaml",
			Check: func(t *testing.T, c *Config) { assert.Equal(t, &Config{}, c) },
		},
		{
			Name:      "a limit set here is an unknown key: the limit is the server's",
			File:      "config_unknown_field.yaml",
			DecodeErr: "max_request_body_size",
		},
	})
}
