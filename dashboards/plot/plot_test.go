package plot

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/backtest"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

const (
	backtestStep  = time.Minute
	backtestSLOs  = "../../slo/backtest/testdata/slos.yaml"
	backtestInput = "../../slo/backtest/testdata/input.om"
)

// backtestOutput runs the real backtest on its own test data.
func backtestOutput(t *testing.T) ([]*spec.SLO, []byte) {
	t.Helper()
	slos, err := formats.Load(backtestSLOs)
	require.NoError(t, err)
	data, err := os.ReadFile(backtestInput)
	require.NoError(t, err)
	samples, err := backtest.Parse(data)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, backtest.Run(&out, slos, samples, backtest.Options{Step: backtestStep}))
	return slos, out.Bytes()
}

func TestRenderBacktestOutputAsPNG(t *testing.T) {
	slos, out := backtestOutput(t)
	steps, err := ReadSteps(bytes.NewReader(out), "pay-availability")
	require.NoError(t, err)
	require.NotEmpty(t, steps)
	for _, st := range steps {
		assert.Equal(t, "pay-availability", st.SLO)
	}
	var png1 bytes.Buffer
	require.NoError(t, Render(&png1, slos[0], steps, Options{Width: 800, Height: 600}))
	img, err := png.Decode(bytes.NewReader(png1.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 800, 600), img.Bounds())

	windows, factors := Windows(slos[0])
	assert.Equal(t, []string{"1h", "5m", "6h", "30m", "1d", "2h", "3d"}, windows)
	assert.InDeltaSlice(t, []float64{14.4, 6, 3, 1}, factors, 1e-9)
	// The burst in the data shows: the 5m burn rate line (the second
	// colour), the page threshold and the page band are drawn in the top
	// half, the budget line in the bottom part.
	assert.True(t, hasColour(img, image.Rect(0, 0, 800, 360), Palette[1]), "the 5m burn rate is drawn")
	assert.True(t, hasColour(img, image.Rect(0, 380, 800, 600), budgetColor), "the budget is drawn")
	assert.True(t, hasColour(img, image.Rect(0, 0, 800, 360), pageColor), "the page factors are drawn")
}

func hasColour(img image.Image, r image.Rectangle, c interface{ RGBA() (r, g, b, a uint32) }) bool {
	cr, cg, cb, _ := c.RGBA()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if pr == cr && pg == cg && pb == cb {
				return true
			}
		}
	}
	return false
}

func TestRenderRejectsBadInput(t *testing.T) {
	slos, out := backtestOutput(t)
	steps, err := ReadSteps(bytes.NewReader(out), "pay-availability")
	require.NoError(t, err)
	tests := []struct {
		name  string
		steps []Step
		w, h  int
		want  string
	}{
		{"a size too small to read is refused", steps, 599, 600, "must be between"},
		{"a huge size is refused", steps, 800, 10000, "must be between"},
		{"no steps for the SLO is an error naming it", nil, 800, 600, "no backtest steps for slo pay-availability"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, Render(&bytes.Buffer{}, slos[0], tt.steps, Options{Width: tt.w, Height: tt.h}), tt.want)
		})
	}
}

func TestInstanceChoosesOneGroup(t *testing.T) {
	steps := []Step{{SLO: "a", Group: map[string]string{"region": "eu"}}, {SLO: "a", Group: map[string]string{"region": "us"}}}
	_, err := Instance(steps, "")
	assert.ErrorContains(t, err, `choose one: "region=eu", "region=us"`)
	got, err := Instance(steps, "region=us")
	require.NoError(t, err)
	assert.Equal(t, steps[1:], got)
	_, err = Instance(steps, "region=ap")
	assert.ErrorContains(t, err, `no instance "region=ap"`)
	got, err = Instance(steps[:1], "")
	require.NoError(t, err, "the only instance needs no choice")
	assert.Len(t, got, 1)
}

func TestReadStepsNamesTheBadLine(t *testing.T) {
	_, err := ReadSteps(strings.NewReader("{\"slo\":\"a\",\"time\":\"2026-01-01T00:00:00Z\"}\n\nnot json\n"), "a")
	assert.ErrorContains(t, err, "backtest line 3")
	steps, err := ReadSteps(strings.NewReader(`{"slo":"b","time":"2026-01-01T00:00:00Z"}`), "a")
	require.NoError(t, err)
	assert.Empty(t, steps, "other SLOs are left out")
}

func BenchmarkRender(b *testing.B) {
	slos, err := formats.Load(backtestSLOs)
	require.NoError(b, err)
	data, err := os.ReadFile(backtestInput)
	require.NoError(b, err)
	samples, err := backtest.Parse(data)
	require.NoError(b, err)
	var out bytes.Buffer
	require.NoError(b, backtest.Run(&out, slos, samples, backtest.Options{Step: backtestStep}))
	steps, err := ReadSteps(bytes.NewReader(out.Bytes()), "pay-availability")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(&bytes.Buffer{}, slos[0], steps, Options{Width: 800, Height: 600}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzReadSteps(f *testing.F) {
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","slo":"a","burn_rate":{"1h":20,"5m":30},"budget_remaining":0.5}`))
	s := &spec.SLO{Name: "a"}
	s.Alerting.Page = spec.Severity{Enabled: true, Windows: []spec.WindowPair{{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		steps, err := ReadSteps(bytes.NewReader(data), "a")
		if err != nil || len(steps) == 0 {
			return
		}
		var out bytes.Buffer
		if err := Render(&out, s, steps, Options{Width: 600, Height: 400}); err != nil {
			t.Fatalf("render of parsed steps failed: %v", err)
		}
		if _, err := png.Decode(&out); err != nil {
			t.Fatal(err)
		}
	})
}
