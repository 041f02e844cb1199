package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/slo/lint"
)

// Exit statuses of obsd slo lint.
const (
	lintClean      = 0 // no error (and no warning with --werror)
	lintFailed     = 1 // errors, or warnings with --werror
	lintUnreadable = 2 // an input could not be read
)

type lintFlags struct {
	allowMissingRunbook, werror, strict bool
}

func newSLOLintCommand() *cobra.Command {
	var f lintFlags
	c := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check SLO files (obsd, Sloth, Pyrra, OpenSLO) for mistakes; file:line: severity: message",
		Long: "Loads the SLO files together (names must be unique across them) and checks objectives, periods,\n" +
			"alert windows against periods and objectives, selectors that can never match, page alerts without\n" +
			"a runbook URL and SLIs built on cause metrics (CPU, memory, disk). Prints one line per finding:\n" +
			"file:line: error|warning: message. Exit status: 0 clean, 1 errors (or warnings with --werror),\n" +
			"2 an input could not be read. Keys that Sloth or Kubernetes would ignore and page alerts without a\n" +
			"runbook are warnings: obsd loads such files; --strict makes them errors.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runLint(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f); code != lintClean {
				os.Exit(code)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&f.allowMissingRunbook, "allow-missing-runbook", false, "accept page alerts without a runbook URL")
	c.Flags().BoolVar(&f.werror, "werror", false, "fail on warnings too")
	c.Flags().BoolVar(&f.strict, "strict", false, "make ignored keys and page alerts without a runbook errors")
	return c
}

// runLint prints the findings and returns the exit status.
func runLint(stdout, stderr io.Writer, files []string, f lintFlags) int {
	findings, err := lint.Run(files, lint.Options{AllowMissingRunbook: f.allowMissingRunbook, Strict: f.strict})
	if err != nil {
		fmt.Fprintf(stderr, "obsd slo lint: %v\n", err)
		return lintUnreadable
	}
	if err := lint.Write(stdout, findings); err != nil {
		fmt.Fprintf(stderr, "obsd slo lint: %v\n", err)
		return lintUnreadable
	}
	if lint.Failed(findings, f.werror) {
		return lintFailed
	}
	return lintClean
}
