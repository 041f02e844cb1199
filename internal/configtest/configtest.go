// Package configtest runs the table of config tests every obsd component
// keeps: one testdata YAML file per case, decoding errors kept apart from
// validation errors, and a check of each valid config.
package configtest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

// Case is one config test. Exactly one of DecodeErr, ValidateErr and Check
// says what the file should give.
type Case[C any] struct {
	Name string
	// File is the YAML file under testdata/ holding the component's config.
	File string
	// DecodeErr, when set, is a part of the decoding error the file gives.
	DecodeErr string
	// ValidateErr, when set, are parts of the Validate error the file gives.
	ValidateErr []string
	// Check inspects the decoded, valid config.
	Check func(t *testing.T, cfg C)
}

// Run decodes each case's file over factory's default config and checks
// what it gives. C is the component's config type, e.g. *Config.
func Run[C interface{ Validate() error }](t *testing.T, factory component.Factory, cases []Case[C]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			cm, err := confmaptest.LoadConf(filepath.Join("testdata", tc.File))
			require.NoError(t, err)
			cfg := factory.CreateDefaultConfig()
			err = cm.Unmarshal(&cfg)
			if tc.DecodeErr != "" {
				require.ErrorContains(t, err, tc.DecodeErr)
				return
			}
			require.NoError(t, err)
			c, ok := cfg.(C)
			require.True(t, ok, "the factory's config is a %T", cfg)
			err = c.Validate()
			if len(tc.ValidateErr) > 0 {
				require.Error(t, err)
				for _, want := range tc.ValidateErr {
					assert.ErrorContains(t, err, want)
				}
				return
			}
			require.NoError(t, err)
			require.NotNil(t, tc.Check, "a valid config needs a Check")
			tc.Check(t, c)
		})
	}
}
