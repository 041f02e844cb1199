package main

import (
	"fmt"
	"io"
	"time"

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
	source        string
	grafanaURL    string
	queryOffset   time.Duration
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
			"Metric SLIs read the application's metrics (--source metrics, the default) or, with --source agents, the exact\n" +
			"window sums obsd agents export in alert_mode ruler or both; span and log SLIs always read the agents' sums,\n" +
			"added across agents (sum by the SLO's group labels): run the agents with alert_mode: ruler and load these\n" +
			"rules into a Prometheus, Mimir or VictoriaMetrics ruler. SLOs obsd cannot evaluate itself (Sloth raw error\n" +
			"ratios, Pyrra bool_gauge) are exported as their tool writes them.\n" +
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
	c.Flags().StringVar(&f.source, "source", rules.SourceMetrics, "what metric SLIs read: metrics (the application's) or agents (obsd agents' window sums); "+
		"span and log SLIs always read the agents'")
	c.Flags().DurationVar(&f.queryOffset, "query-offset", 0, "every group's query_offset (Prometheus >= 2.53, Mimir >= 2.13): "+
		"read the agents' sums this far in the past, so every agent's sample of an instant has arrived; 0 leaves it out")
	c.Flags().StringVar(&f.grafanaURL, "grafana-url", "", "Grafana base URL: adds the dashboard_url annotation (the SLO's generated dashboard)")
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
		Namespace: f.namespace, SourceTenants: f.sourceTenants, Source: f.source, GrafanaURL: f.grafanaURL, QueryOffset: f.queryOffset})
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
