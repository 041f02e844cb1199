package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/dashboards"
	"github.com/obsd-dev/obsd/dashboards/plot"
	"github.com/obsd-dev/obsd/internal/k8smanifest"
	"github.com/obsd-dev/obsd/slo/contract"
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
	slo, name, input, out, instance string
	width, height                   int
}

// newDashboardsPlotCommand draws an SLO's backtest from `obsd slo
// backtest` output, as `obsd slo backtest --plot` does.
func newDashboardsPlotCommand() *cobra.Command {
	var f plotFlags
	c := &cobra.Command{
		Use:   "plot --slo FILE --name SLO --input BACKTEST.jsonl --out FILE.png",
		Short: "Draw an SLO's backtest (burn rates, thresholds, alerts, budget) as PNG",
		Long: "Reads the JSON lines of `obsd slo backtest` and draws the SLO's burn rate per alert window with the\n" +
			"page and ticket factors as labelled dashed lines and the periods each alert fired shaded (top), and the\n" +
			"error budget remaining in percent with the zero line (bottom), on a UTC time axis.",
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error { return runDashboardsPlot(f) },
	}
	c.Flags().StringVar(&f.slo, "slo", "", "SLO file (path or glob)")
	c.Flags().StringVar(&f.name, "name", "", "SLO name (default: the only SLO of the file)")
	c.Flags().StringVar(&f.input, "input", "", "backtest output (JSON lines)")
	c.Flags().StringVar(&f.out, "out", "", "PNG file to write")
	c.Flags().StringVar(&f.instance, "instance", "", "instance of a grouped SLO, as \"k=v, k=v\" (default: the only one)")
	c.Flags().IntVar(&f.width, "width", 1000, "width in pixels")
	c.Flags().IntVar(&f.height, "height", 680, "height in pixels")
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
	return writePlot(f.out, s, in, f.instance, plot.Options{Width: f.width, Height: f.height, Source: filepath.Base(f.input)})
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
	configs       []string
	out           string
	grafanaURL    string
	provisionPath string
	// format configmap: the ConfigMaps' name prefix, metadata and the
	// Grafana sidecar's folder annotation.
	format, namePrefix, folder, folderAnnotation string
	meta                                         k8smanifest.Meta
}

func newDashboardsGenerateCommand() *cobra.Command {
	var f dashboardsFlags
	c := &cobra.Command{
		Use:   "generate (--slo FILE... | --config URI...) (--out DIR [--grafana-url URL] [--provision-path DIR] | --format configmap)",
		Short: "Write Grafana dashboards for SLOs and obsd's health, with a provisioning file",
		Long: "Writes one dashboard per SLO, an SLO overview and an agent health dashboard as JSON into DIR,\n" +
			"plus " + dashboards.ProvisioningFile + " (Grafana file provisioning, apiVersion 1).\n" +
			"With --grafana-url it prints each SLO's dashboard URL (the alerts' dashboard_url).\n" +
			"--format configmap writes the same dashboards to stdout as one ConfigMap each, labelled for Grafana's\n" +
			"dashboard sidecar (kube-prometheus-stack) and annotated with the SLO files' digest (kubectl apply -f -).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDashboardsGenerate(cmd.OutOrStdout(), f)
		},
	}
	c.Flags().StringSliceVar(&f.slos, "slo", nil, "SLO file (path or glob); repeatable")
	c.Flags().StringArrayVar(&f.configs, "config", nil, "instead of --slo: obsd's config, for every SLO of its slo connectors, discovered ones included (json format)")
	c.Flags().StringVar(&f.out, "out", "", "output directory")
	c.Flags().StringVar(&f.grafanaURL, "grafana-url", "", "Grafana base URL, to print each SLO's dashboard URL")
	c.Flags().StringVar(&f.provisionPath, "provision-path", "", "directory of the JSON files as Grafana sees it (default: --out, made absolute)")
	c.Flags().StringVar(&f.format, "format", "json", "output: json (files in --out) or configmap (ConfigMaps on stdout)")
	c.Flags().StringVar(&f.namePrefix, "name-prefix", "", "configmap: prefix of the ConfigMap names (each is the prefix and the dashboard uid)")
	c.Flags().StringVar(&f.meta.Namespace, "namespace", "", "configmap: namespace of the ConfigMaps (default: none, kubectl's)")
	c.Flags().StringToStringVar(&f.meta.Labels, "label", map[string]string{"grafana_dashboard": "1"},
		"configmap: label KEY=VALUE the Grafana sidecar selects (its sidecar.dashboards.label and labelValue); repeatable, replaces the default")
	c.Flags().StringVar(&f.folderAnnotation, "folder-annotation", "grafana_folder",
		"configmap: the annotation the sidecar reads the folder from (its sidecar.dashboards.folderAnnotation)")
	c.Flags().StringVar(&f.folder, "folder", "obsd", "configmap: Grafana folder of the dashboards (empty: no folder annotation)")
	return c
}

func runDashboardsGenerate(stdout io.Writer, f dashboardsFlags) error {
	switch {
	case len(f.slos) > 0 == (len(f.configs) > 0):
		return fmt.Errorf("give either '--slo' (SLO files) or '--config' (obsd's config)")
	case len(f.configs) > 0 && f.format == k8smanifest.FormatConfigMap:
		return fmt.Errorf("'--config' writes --format json; --format configmap takes the SLO files (--slo) it annotates with their digest")
	case f.format == k8smanifest.FormatConfigMap:
		if f.out != "" || f.grafanaURL != "" || f.provisionPath != "" {
			return fmt.Errorf("'--out', '--grafana-url' and '--provision-path' are for --format json; --format configmap writes the ConfigMaps to stdout")
		}
		return runDashboardsConfigMaps(stdout, f)
	case f.format != "json":
		return fmt.Errorf("'--format' must be json or %s, not %q", k8smanifest.FormatConfigMap, f.format)
	case f.out == "":
		return fmt.Errorf("'--out' is required with --format json")
	}
	var slos []*spec.SLO
	var err error
	if len(f.configs) > 0 {
		slos, err = configSLOs(context.Background(), f.configs)
	} else {
		slos, err = formats.Load(f.slos...)
	}
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
			fmt.Fprintf(stdout, "%s\t%s\n", s.Name, contract.DashboardURL(f.grafanaURL, s.Name))
		}
	}
	return nil
}

// runDashboardsConfigMaps writes the dashboards of runDashboardsGenerate,
// without the provisioning file, as ConfigMaps.
func runDashboardsConfigMaps(stdout io.Writer, f dashboardsFlags) error {
	slos, err := formats.Load(f.slos...)
	if err != nil {
		return fmt.Errorf("could not load SLOs: %w", err)
	}
	files, err := dashboards.Generate(slos, "")
	if err != nil {
		return err
	}
	var cms []k8smanifest.File
	for _, file := range files {
		if file.Name != dashboards.ProvisioningFile {
			cms = append(cms, k8smanifest.File{Name: file.Name, Data: file.Data})
		}
	}
	out, err := sloManifest(f.slos, f.meta, f.meta.Namespace, func(m k8smanifest.Meta) ([]byte, error) {
		if f.folder != "" {
			m.Annotations[f.folderAnnotation] = f.folder
		}
		return k8smanifest.ConfigMaps(cms, f.namePrefix, m)
	})
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
