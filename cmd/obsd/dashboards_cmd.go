package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/dashboards"
	"github.com/obsd-dev/obsd/slo/spec"
)

// newDashboardsCommand groups obsd's Grafana dashboard tools.
func newDashboardsCommand() *cobra.Command {
	c := &cobra.Command{Use: "dashboards", Short: "Grafana dashboard tools"}
	c.AddCommand(newDashboardsGenerateCommand())
	return c
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
	slos, err := spec.Load(f.slos...)
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
