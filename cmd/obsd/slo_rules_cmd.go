package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/rules"
)

type rulesFlags struct {
	slos          []string
	format        string
	alertName     string
	namespace     string
	sourceTenants []string
}

// newSLORulesCommand exports SLOs as Prometheus (or Mimir) rule groups.
func newSLORulesCommand() *cobra.Command {
	var f rulesFlags
	c := &cobra.Command{
		Use:   "rules --slo FILE... [--format prometheus|mimir]",
		Short: "Write Prometheus rule groups (recording and MWMB alerting rules) for the SLOs",
		Long: "Writes the SLOs' windowed error ratios as recording rules (ratio of sums) and their multi-window\n" +
			"multi-burn-rate alerts as alerting rules, with obsd's alert labels and annotations, to stdout.\n" +
			"SLOs on spans have no Prometheus metric: they are named in a comment and skipped. SLOs obsd cannot\n" +
			"evaluate itself (Sloth raw error ratios, Pyrra bool_gauge) are exported as their tool writes them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRules(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	c.Flags().StringSliceVar(&f.slos, "slo", nil, "SLO files (paths or globs; repeat or separate with commas)")
	c.Flags().StringVar(&f.format, "format", rules.FormatPrometheus, "output format: prometheus or mimir")
	c.Flags().StringVar(&f.alertName, "alertname", rules.DefaultAlertName, "alertname of the alerts (as in obsd's alerting config)")
	c.Flags().StringVar(&f.namespace, "namespace", rules.DefaultNamespace, "Mimir ruler namespace (mimir format)")
	c.Flags().StringSliceVar(&f.sourceTenants, "source-tenants", nil, "Mimir federated rule groups: tenants to read (mimir format)")
	_ = c.MarkFlagRequired("slo")
	return c
}

func runRules(stdout, stderr io.Writer, f rulesFlags) error {
	slos, warnings, err := formats.LoadExport(f.slos...)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %v\n", w)
	}
	if err != nil {
		return fmt.Errorf("could not load slos: %w", err)
	}
	out, err := rules.Generate(slos, rules.Options{Format: f.format, AlertName: f.alertName,
		Namespace: f.namespace, SourceTenants: f.sourceTenants})
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
