package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/dashboards/plot"
	"github.com/obsd-dev/obsd/slo/backtest"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

// newSLOCommand groups obsd's SLO tools.
func newSLOCommand() *cobra.Command {
	c := &cobra.Command{Use: "slo", Short: "SLO tools"}
	c.AddCommand(newSLOBacktestCommand(), newSLORulesCommand(), newSLOLintCommand(), newSLOConvertCommand())
	return c
}

type backtestFlags struct {
	slo, input, from, to string
	step                 time.Duration
	// plot, when set, is a PNG file to draw plotSLO's backtest into (the
	// instance plotInstance of a grouped SLO).
	plot, plotSLO, plotInstance string
}

func newSLOBacktestCommand() *cobra.Command {
	var f backtestFlags
	c := &cobra.Command{
		Use:   "backtest --slo FILE --input FILE [--step 1m] [--from T --to T]",
		Short: "Replay an OpenMetrics file with timestamps through the SLO engine",
		Long: "Replays an OpenMetrics text file with timestamps (the input of promtool tsdb create-blocks-from openmetrics)\n" +
			"through obsd's SLO engine and prints one JSON object per line per step and SLO.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBacktest(cmd.OutOrStdout(), os.Stderr, f)
		},
	}
	c.Flags().StringVar(&f.slo, "slo", "", "SLO file (path or glob)")
	c.Flags().StringVar(&f.input, "input", "", "OpenMetrics text file with timestamps")
	c.Flags().DurationVar(&f.step, "step", time.Minute, "evaluation step")
	c.Flags().StringVar(&f.from, "from", "", "first evaluation time (RFC3339 or Unix seconds; default: first sample)")
	c.Flags().StringVar(&f.to, "to", "", "last evaluation time (RFC3339 or Unix seconds; default: last sample)")
	c.Flags().StringVar(&f.plot, "plot", "", "also draw the SLO's burn rates, thresholds, alerts and budget as a PNG into this file")
	c.Flags().StringVar(&f.plotSLO, "plot-slo", "", "SLO to plot (default: the only SLO of the file)")
	c.Flags().StringVar(&f.plotInstance, "plot-instance", "", "instance of a grouped SLO to plot, as \"k=v, k=v\" (default: the only one)")
	_ = c.MarkFlagRequired("slo")
	_ = c.MarkFlagRequired("input")
	return c
}

func runBacktest(stdout io.Writer, stderr *os.File, f backtestFlags) error {
	if f.step <= 0 {
		return fmt.Errorf("'--step' must be greater than zero")
	}
	from, err := parseTime(f.from)
	if err != nil {
		return fmt.Errorf("invalid '--from': %w", err)
	}
	to, err := parseTime(f.to)
	if err != nil {
		return fmt.Errorf("invalid '--to': %w", err)
	}
	slos, err := formats.Load(f.slo)
	if err != nil {
		return fmt.Errorf("could not load slos: %w", err)
	}
	data, err := os.ReadFile(f.input)
	if err != nil {
		return fmt.Errorf("could not read input: %w", err)
	}
	samples, err := backtest.Parse(data)
	if err != nil {
		return fmt.Errorf("could not parse %s: %w", f.input, err)
	}
	var plotSLO *spec.SLO
	if f.plot != "" {
		if plotSLO, err = pickSLO(slos, f.plotSLO); err != nil {
			return fmt.Errorf("invalid '--plot-slo': %w", err)
		}
	}
	opts := backtest.Options{Step: f.step, From: from, To: to}
	if isTerminal(stderr) {
		opts.Progress = func(done, total int) { progress(stderr, done, total) }
	}
	var lines bytes.Buffer
	out := stdout
	if plotSLO != nil {
		out = io.MultiWriter(stdout, &lines)
	}
	if err := backtest.Run(out, slos, samples, opts); err != nil {
		return err
	}
	if plotSLO == nil {
		return nil
	}
	return writePlot(f.plot, plotSLO, &lines, f.plotInstance, plot.Options{Source: filepath.Base(f.input)})
}

// writePlot draws an SLO instance's backtest (JSON lines) into a PNG file.
func writePlot(path string, s *spec.SLO, backtestOutput io.Reader, instance string, opts plot.Options) error {
	steps, err := plot.ReadSteps(backtestOutput, s.Name)
	if err != nil {
		return err
	}
	if steps, err = plot.Instance(steps, instance); err != nil {
		return fmt.Errorf("invalid '--plot-instance': %w", err)
	}
	var buf bytes.Buffer
	if err := plot.Render(&buf, s, steps, opts); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("could not write %q: %w", path, err)
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if sec, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Unix(0, int64(sec*1e9)).UTC(), nil
	}
	return time.Parse(time.RFC3339, s)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line bar, finished with a newline.
func progress(w io.Writer, done, total int) {
	const width = 40
	if total <= 0 || (done%64 != 0 && done != total) {
		return
	}
	n := done * width / total
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < n {
			bar[i] = '='
		}
	}
	fmt.Fprintf(w, "\r[%s] %d/%d steps", bar, done, total)
	if done == total {
		fmt.Fprintln(w)
	}
}
