package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/internal/k8smanifest"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/rules"
)

type rulesFlags struct {
	slos          []string
	format        string
	alertName     string
	namespace     string
	sourceTenants []string
	meta          k8smanifest.Meta
}

// newSLORulesCommand exports SLOs as Prometheus (or Mimir) rule groups.
func newSLORulesCommand() *cobra.Command {
	var f rulesFlags
	c := &cobra.Command{
		Use:   "rules --slo FILE... [--format prometheus|mimir|prometheus-operator]",
		Short: "Write Prometheus rule groups (recording and MWMB alerting rules) for the SLOs",
		Long: "Writes the SLOs' windowed error ratios as recording rules (ratio of sums) and their multi-window\n" +
			"multi-burn-rate alerts as alerting rules, with obsd's alert labels and annotations, to stdout.\n" +
			"SLOs on spans have no Prometheus metric: they are named in a comment and skipped. SLOs obsd cannot\n" +
			"evaluate itself (Sloth raw error ratios, Pyrra bool_gauge) are exported as their tool writes them.\n" +
			"--format prometheus-operator wraps the same rule groups in a PrometheusRule manifest (kubectl apply -f -)\n" +
			"annotated with the SLO files' digest, which the Helm chart checks against the SLO files it mounts.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch f.format {
			case rules.FormatPrometheus, rules.FormatMimir, k8smanifest.FormatPrometheusOperator:
			default:
				return fmt.Errorf("'format' must be %q, %q or %q, not %q", rules.FormatPrometheus, rules.FormatMimir, k8smanifest.FormatPrometheusOperator, f.format)
			}
			if f.format != k8smanifest.FormatPrometheusOperator {
				if err := manifestFlagsUnused(cmd, "name", "label"); err != nil {
					return err
				}
			}
			return runRules(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	c.Flags().StringSliceVar(&f.slos, "slo", nil, "SLO files (paths or globs; repeat or separate with commas)")
	c.Flags().StringVar(&f.format, "format", rules.FormatPrometheus, "output format: prometheus, mimir or prometheus-operator")
	c.Flags().StringVar(&f.alertName, "alertname", rules.DefaultAlertName, "alertname of the alerts (as in obsd's alerting config)")
	c.Flags().StringVar(&f.namespace, "namespace", "", "Mimir ruler namespace (mimir format; default "+rules.DefaultNamespace+
		") or the PrometheusRule's namespace (prometheus-operator format; default: none, kubectl's)")
	c.Flags().StringSliceVar(&f.sourceTenants, "source-tenants", nil, "Mimir federated rule groups: tenants to read (mimir format)")
	addRuleManifestFlags(c, &f.meta, "obsd-slo-rules")
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
	format, operator := f.format, f.format == k8smanifest.FormatPrometheusOperator
	if operator {
		format = rules.FormatPrometheus
	}
	out, err := rules.Generate(slos, rules.Options{Format: format, AlertName: f.alertName,
		Namespace: f.namespace, SourceTenants: f.sourceTenants})
	if err != nil {
		return err
	}
	if operator {
		if out, err = sloManifest(f.slos, f.meta, f.namespace, func(m k8smanifest.Meta) ([]byte, error) {
			return k8smanifest.PrometheusRule(out, m)
		}); err != nil {
			return err
		}
	}
	_, err = stdout.Write(out)
	return err
}

// sloManifest calls write with meta in namespace, annotated with the
// digest of the SLO files the patterns match.
func sloManifest(patterns []string, meta k8smanifest.Meta, namespace string, write func(k8smanifest.Meta) ([]byte, error)) ([]byte, error) {
	digest, err := k8smanifest.SLOFilesDigest(patterns...)
	if err != nil {
		return nil, fmt.Errorf("could not digest the slo files: %w", err)
	}
	meta.Namespace = namespace
	meta.Annotations = map[string]string{k8smanifest.SLOFilesDigestAnnotation: digest}
	return write(meta)
}
