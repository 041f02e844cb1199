package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/dashboards"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

// newDashboardsCommand groups obsd's Grafana dashboard tools.
func newDashboardsCommand() *cobra.Command {
	c := &cobra.Command{Use: "dashboards", Short: "Grafana dashboard tools"}
	c.AddCommand(newDashboardsGenerateCommand())
	c.AddCommand(newDashboardsPlotCommand())
	return c
}

type plotFlags struct {
	slo, name, input, out string
	width, height         int
}

// newDashboardsPlotCommand draws an SLO dashboard's burn-rate and budget
// panels from `obsd slo backtest` output (the future
// `obsd slo backtest --plot` calls runDashboardsPlot the same way).
func newDashboardsPlotCommand() *cobra.Command {
	var f plotFlags
	c := &cobra.Command{
		Use:   "plot --slo FILE --name SLO --input BACKTEST.jsonl --out FILE.png",
		Short: "Draw an SLO's burn-rate and budget panels from backtest output as PNG",
		Long: "Reads the JSON lines of `obsd slo backtest` and draws the SLO's alert-window burn rates with the\n" +
			"factors as dashed red lines (top) and the error budget remaining with 0 as a line (bottom).",
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error { return runDashboardsPlot(f) },
	}
	c.Flags().StringVar(&f.slo, "slo", "", "SLO file (path or glob)")
	c.Flags().StringVar(&f.name, "name", "", "SLO name (default: the only SLO of the file)")
	c.Flags().StringVar(&f.input, "input", "", "backtest output (JSON lines)")
	c.Flags().StringVar(&f.out, "out", "", "PNG file to write")
	c.Flags().IntVar(&f.width, "width", 1200, "width in pixels")
	c.Flags().IntVar(&f.height, "height", 800, "height in pixels")
	for _, n := range []string{"slo", "input", "out"} {
		_ = c.MarkFlagRequired(n)
	}
	return c
}

func runDashboardsPlot(f plotFlags) error {
	slos, err := formats.Load(f.slo)
	if err != nil {
		return fmt.Errorf("could not load SLOs: %w", err)
	}
	s, err := pickSLO(slos, f.name)
	if err != nil {
		return err
	}
	in, err := os.Open(f.input)
	if err != nil {
		return fmt.Errorf("invalid '--input': %w", err)
	}
	defer in.Close()
	return writePlot(f.out, s, in, f.width, f.height)
}

// pickSLO returns the SLO called name, or the only SLO when name is empty.
func pickSLO(slos []*spec.SLO, name string) (*spec.SLO, error) {
	if name == "" {
		if len(slos) != 1 {
			return nil, fmt.Errorf("'--name' is required: the file declares %d SLOs", len(slos))
		}
		return slos[0], nil
	}
	for _, s := range slos {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("'--name': no SLO %q in the file", name)
}

type dashboardsFlags struct {
	slos          []string
	out           string
	grafanaURL    string
	provisionPath string
}

func newDashboardsGenerateCommand() *cobra.Command {
	var f dashboardsFlags
	c := &cobra.Command{
		Use:   "generate --slo FILE... --out DIR [--grafana-url URL] [--provision-path DIR]",
		Short: "Write Grafana dashboards for SLOs and obsd's health, with a provisioning file",
		Long: "Writes one dashboard per SLO, an SLO overview and an agent health dashboard as JSON into DIR,\n" +
			"plus " + dashboards.ProvisioningFile + " (Grafana file provisioning, apiVersion 1).\n" +
			"With --grafana-url it prints each SLO's dashboard URL (the alerts' dashboard_url).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDashboardsGenerate(cmd.OutOrStdout(), f)
		},
	}
	c.Flags().StringSliceVar(&f.slos, "slo", nil, "SLO file (path or glob); repeatable")
	c.Flags().StringVar(&f.out, "out", "", "output directory")
	c.Flags().StringVar(&f.grafanaURL, "grafana-url", "", "Grafana base URL, to print each SLO's dashboard URL")
	c.Flags().StringVar(&f.provisionPath, "provision-path", "", "directory of the JSON files as Grafana sees it (default: --out, made absolute)")
	_ = c.MarkFlagRequired("slo")
	_ = c.MarkFlagRequired("out")
	return c
}

func runDashboardsGenerate(stdout io.Writer, f dashboardsFlags) error {
	slos, err := formats.Load(f.slos...)
	if err != nil {
		return fmt.Errorf("could not load SLOs: %w", err)
	}
	path := f.provisionPath
	if path == "" {
		if path, err = filepath.Abs(f.out); err != nil {
			return fmt.Errorf("invalid '--out': %w", err)
		}
	}
	files, err := dashboards.Generate(slos, path)
	if err != nil {
		return err
	}
	if err := dashboards.Write(f.out, files); err != nil {
		return err
	}
	for _, file := range files {
		fmt.Fprintln(stdout, filepath.Join(f.out, file.Name))
	}
	if f.grafanaURL != "" {
		for _, s := range slos {
			fmt.Fprintf(stdout, "%s\t%s\n", s.Name, dashboards.DashboardURL(f.grafanaURL, s))
		}
	}
	return nil
}
