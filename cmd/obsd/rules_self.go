package main

import (
	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/alerting/selfrules"
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
	var baseURL string
	c := &cobra.Command{
		Use:   "self [--runbook-base-url URL]",
		Short: "Write Prometheus alerting rules for obsd's own failure modes",
		Long: "Writes a Prometheus rule file with one alerting rule per failure mode obsd can detect in\n" +
			"itself (docs/runbooks/), each with severity, summary, description and a runbook_url, to stdout.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := selfrules.Generate(baseURL)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	c.Flags().StringVar(&baseURL, "runbook-base-url", selfrules.DefaultRunbookBaseURL,
		"URL of docs/runbooks; runbook_url is this plus /<page>.md")
	return c
}
