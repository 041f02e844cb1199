package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSLOBacktestPlot: `obsd slo backtest --plot` prints the JSON lines and
// draws the SLO's backtest as a 1000x680 PNG (the README's width).
func TestSLOBacktestPlot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pay.png")
	cmd := newSLOCommand()
	var stdout bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetArgs([]string{"backtest", "--slo", "../../slo/backtest/testdata/slos.yaml", "--input", "../../slo/backtest/testdata/input.om",
		"--plot", out, "--plot-slo", "pay-availability"})
	require.NoError(t, cmd.Execute())
	assert.Contains(t, stdout.String(), `"slo":"pay-availability"`)
	assert.Greater(t, strings.Count(stdout.String(), "\n"), 10, "one JSON line per step and SLO")

	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 1000, 680), img.Bounds())
	assert.False(t, uniform(img), "the plot is blank")

	cmd = newSLOCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"backtest", "--slo", "../../slo/backtest/testdata/slos.yaml", "--input", "../../slo/backtest/testdata/input.om", "--plot", out})
	assert.ErrorContains(t, cmd.Execute(), "'--plot-slo'")
}

func uniform(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			if img.At(x, y) != first {
				return false
			}
		}
	}
	return true
}

// TestTheREADMEBacktestCommandRuns runs the README's backtest example on
// its scenario: the plot of the eu instance, and a refusal naming the
// instances when the one asked for does not exist.
func TestTheREADMEBacktestCommandRuns(t *testing.T) {
	out := filepath.Join(t.TempDir(), "api.png")
	args := []string{"backtest", "--slo", "../../slo.example.yaml", "--input", "../../docs/examples/api-incident.om", "--step", "5m",
		"--plot", out, "--plot-slo", "api-availability"}
	cmd := newSLOCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs(args)
	require.NoError(t, cmd.Execute())
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.False(t, uniform(img))

	cmd = newSLOCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs(append(args, "--plot-instance", "region=us"))
	assert.ErrorContains(t, cmd.Execute(), `'--plot-instance': no instance "region=us"; the SLO's instances: "region=eu"`)
}
