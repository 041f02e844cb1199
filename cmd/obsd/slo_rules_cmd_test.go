package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSLORulesCommand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"the prometheus format is the default", []string{"--slo", "../../slo/rules/testdata/slos.yaml"},
			"record: obsd_slo:sli_error:ratio_rate1h", ""},
		{"the mimir format writes a namespace", []string{"--slo", "../../slo/rules/testdata/slos.yaml", "--format", "mimir"},
			"namespace: obsd-slos", ""},
		{"an unknown format is an error", []string{"--slo", "../../slo/rules/testdata/slos.yaml", "--format", "x"}, "", "'format' must be"},
		{"--source agents reads the agents' window sums for a metric SLI too", []string{"--slo", "../../slo/rules/testdata/slos.yaml", "--source", "agents"},
			`sum by (region) (obsd_slo_window_bad_events{slo="checkout-availability", window="5m"})`, ""},
		{"--grafana-url adds the dashboard link", []string{"--slo", "../../slo/rules/testdata/slos.yaml", "--grafana-url", "https://grafana.example"},
			"dashboard_url: https://grafana.example/d/obsd-slo-checkout-availability/", ""},
		{"an unknown source is an error", []string{"--slo", "../../slo/rules/testdata/slos.yaml", "--source", "gateway"}, "", "'source' must be"},
		{"a missing SLO file is an error", []string{"--slo", "does-not-exist.yaml"}, "", "could not load slos"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newSLORulesCommand()
			var out bytes.Buffer
			c.SetOut(&out)
			c.SetErr(&bytes.Buffer{})
			c.SetArgs(tc.args)
			err := c.Execute()
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, out.String(), tc.want)
		})
	}
}
