package main

import (
	"github.com/spf13/cobra"
	"go.opentelemetry.io/collector/otelcol"
)

// newRootCommand is the collector's command (run, validate, components,
// print-config, featuregate, --version) with obsd's own subcommands added.
func newRootCommand() *cobra.Command {
	cmd := otelcol.NewCommand(collectorSettings())
	// main prints the error once; cobra would print it a second time.
	cmd.SilenceErrors = true
	cmd.AddCommand(newSLOCommand())
	cmd.AddCommand(newDashboardsCommand())
	cmd.AddCommand(newRulesCommand())
	cmd.AddCommand(newGamedayCommand())
	return cmd
}
