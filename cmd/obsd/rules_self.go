package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/alerting/selfrules"
	"github.com/obsd-dev/obsd/internal/k8smanifest"
)

// newRulesCommand groups the rule generators for obsd itself.
func newRulesCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "rules",
		Short: "Prometheus rules about obsd itself",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newRulesSelfCommand())
	return c
}

// newRulesSelfCommand prints the alerting rules for obsd's own failure modes.
func newRulesSelfCommand() *cobra.Command {
	var baseURL, format string
	var meta k8smanifest.Meta
	c := &cobra.Command{
		Use:   "self [--runbook-base-url URL] [--format prometheus|prometheus-operator]",
		Short: "Write Prometheus alerting rules for obsd's own failure modes",
		Long: "Writes a Prometheus rule file with one alerting rule per failure mode obsd can detect in\n" +
			"itself (docs/runbooks/), each with severity, summary, description and a runbook_url, to stdout.\n" +
			"--format prometheus-operator wraps the same rules in a PrometheusRule manifest (kubectl apply -f -).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := selfrules.Generate(baseURL)
			if err != nil {
				return err
			}
			switch format {
			case "prometheus":
				if err := manifestFlagsUnused(cmd, "name", "namespace", "label"); err != nil {
					return err
				}
			case k8smanifest.FormatPrometheusOperator:
				if out, err = k8smanifest.PrometheusRule(out, meta); err != nil {
					return err
				}
			default:
				return fmt.Errorf("'--format' must be prometheus or %s, not %q", k8smanifest.FormatPrometheusOperator, format)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	c.Flags().StringVar(&baseURL, "runbook-base-url", selfrules.DefaultRunbookBaseURL,
		"URL of docs/runbooks; runbook_url is this plus /<page>.md")
	c.Flags().StringVar(&format, "format", "prometheus", "output format: prometheus (a rule file) or prometheus-operator (a PrometheusRule)")
	c.Flags().StringVar(&meta.Namespace, "namespace", "", "PrometheusRule namespace (prometheus-operator format; default: none, kubectl's)")
	addRuleManifestFlags(c, &meta, "obsd-self-alerts")
	return c
}

// addRuleManifestFlags adds --name and --label, the PrometheusRule's
// metadata in the prometheus-operator format.
func addRuleManifestFlags(c *cobra.Command, meta *k8smanifest.Meta, name string) {
	c.Flags().StringVar(&meta.Name, "name", name, "PrometheusRule name (prometheus-operator format)")
	c.Flags().StringToStringVar(&meta.Labels, "label", nil,
		"label KEY=VALUE of the object, e.g. release=kube-prometheus-stack to match the Prometheus' ruleSelector (repeatable)")
}

// manifestFlagsUnused refuses Kubernetes metadata flags given with a
// format that writes no Kubernetes object.
func manifestFlagsUnused(c *cobra.Command, names ...string) error {
	for _, n := range names {
		if c.Flags().Changed(n) {
			return fmt.Errorf("'--%s' is for --format %s only", n, k8smanifest.FormatPrometheusOperator)
		}
	}
	return nil
}
