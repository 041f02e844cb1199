package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/backtest"
	"github.com/obsd-dev/obsd/slo/formats"
)

func TestDashboardsGenerateWritesDashboardsAndProvisioning(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dash")
	var stdout bytes.Buffer
	cmd := newDashboardsCommand()
	cmd.SetOut(&stdout)
	cmd.SetArgs([]string{"generate", "--slo", "../../dashboards/testdata/slos.yaml", "--out", out,
		"--grafana-url", "https://grafana.example/", "--provision-path", "/var/lib/grafana/obsd"})
	require.NoError(t, cmd.Execute())

	for _, name := range []string{"obsd-slos-overview.json", "obsd-agent-health.json", "obsd-slo-checkout-availability.json"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		var d map[string]any
		require.NoError(t, json.Unmarshal(data, &d), name)
	}
	prov, err := os.ReadFile(filepath.Join(out, "obsd-dashboards.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(prov), `path: "/var/lib/grafana/obsd"`)
	assert.Contains(t, stdout.String(),
		"checkout-availability\thttps://grafana.example/d/obsd-slo-checkout-availability/slo-checkout-availability?var-slo=checkout-availability\n")
	// The golden files committed under dashboards/testdata/golden/ are what this command writes.
	golden, err := os.ReadFile("../../dashboards/testdata/golden/obsd-slo-checkout-availability.json")
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(out, "obsd-slo-checkout-availability.json"))
	require.NoError(t, err)
	assert.Equal(t, string(golden), string(got))
}

func TestDashboardsGenerateRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a missing SLO file is an error naming it", []string{"--slo", "nope.yaml", "--out", "x"}, "could not load SLOs"},
		{"--out is required", []string{"--slo", "../../dashboards/testdata/slos.yaml"}, "'--out' is required with --format json"},
		{"SLO files or a config is required", []string{"--out", "x"}, "give either '--slo' (SLO files) or '--config'"},
		{"not both", []string{"--slo", "a.yaml", "--config", "b.yaml", "--out", "x"}, "give either"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newDashboardsCommand()
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SetArgs(append([]string{"generate"}, tt.args...))
			err := cmd.Execute()
			require.Error(t, err)
			assert.True(t, strings.Contains(err.Error(), tt.want), err.Error())
		})
	}
}

func TestDashboardsPlotDrawsBacktestOutput(t *testing.T) {
	dir := t.TempDir()
	slos, err := formats.Load("../../slo/backtest/testdata/slos.yaml")
	require.NoError(t, err)
	data, err := os.ReadFile("../../slo/backtest/testdata/input.om")
	require.NoError(t, err)
	samples, err := backtest.Parse(data)
	require.NoError(t, err)
	var bt bytes.Buffer
	require.NoError(t, backtest.Run(&bt, slos, samples, backtest.Options{Step: time.Minute}))
	input := filepath.Join(dir, "bt.jsonl")
	require.NoError(t, os.WriteFile(input, bt.Bytes(), 0o600))
	out := filepath.Join(dir, "pay.png")
	cmd := newDashboardsCommand()
	cmd.SetArgs([]string{"plot", "--slo", "../../slo/backtest/testdata/slos.yaml", "--name", "pay-availability",
		"--input", input, "--out", out, "--width", "640", "--height", "480"})
	require.NoError(t, cmd.Execute())
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 640, 480), img.Bounds())

	cmd = newDashboardsCommand()
	cmd.SetArgs([]string{"plot", "--slo", "../../slo/backtest/testdata/slos.yaml", "--input", input, "--out", out})
	assert.ErrorContains(t, cmd.Execute(), "'--name' is required: the file declares 2 SLOs")
}

// TestDashboardsForTheConfigsDiscoveredSLOs: with --config, the dashboards
// are those of what obsd runs: the SLO files' and the discovered SLOs,
// whose panels name each service in their legend.
func TestDashboardsForTheConfigsDiscoveredSLOs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dash")
	var stdout bytes.Buffer
	cmd := newDashboardsCommand()
	cmd.SetOut(&stdout)
	cmd.SetArgs([]string{"generate", "--config", "testdata/gameday/obsd.yaml", "--out", out, "--grafana-url", "https://grafana.example"})
	require.NoError(t, cmd.Execute())
	for _, name := range []string{"obsd-slo-checkout-availability.json", "obsd-slo-availability.json", "obsd-slo-latency.json"} {
		_, err := os.Stat(filepath.Join(out, name))
		assert.NoError(t, err, "no dashboard %s", name)
	}
	data, err := os.ReadFile(filepath.Join(out, "obsd-slo-availability.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `service={{service}}`, "a discovered SLO's series are told apart by service")
	assert.Contains(t, string(data), `"discovered"`)
	assert.Contains(t, stdout.String(), "availability\thttps://grafana.example/d/obsd-slo-availability/slo-availability?var-slo=availability\n",
		"the URL the status page and the alerts link to")
}
