package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/formats/obsd"
)

type convertFlags struct {
	out string
}

// newSLOConvertCommand writes SLO files of any format as obsd/v1.
func newSLOConvertCommand() *cobra.Command {
	var f convertFlags
	c := &cobra.Command{
		Use:   "convert FILE... [-o FILE]",
		Short: "Write SLO files of any format (Sloth, Sloth CRD, Pyrra, OpenSLO) as one obsd/v1 file",
		Long: "Loads the SLO files together (as obsd slo rules does) and writes their SLOs as one obsd/v1 file,\n" +
			"with every alert window written out, so that a team can move over and then extend them (span\n" +
			"and log SLIs). Warnings (keys the source tool ignores) go to stderr. SLOs obsd can only export\n" +
			"(Sloth raw error ratios it cannot map, Pyrra bool_gauge and latencyNative) are refused, each\n" +
			"with its reason: keep them in their format and export them with obsd slo rules.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	c.Flags().StringVarP(&f.out, "output", "o", "", "file to write (default: stdout)")
	return c
}

func runConvert(stdout, stderr io.Writer, files []string, f convertFlags) error {
	slos, warnings, err := formats.LoadExport(files...)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %v\n", w)
	}
	if err != nil {
		return fmt.Errorf("could not load slos: %w", err)
	}
	out, err := obsd.Write(slos)
	if err != nil {
		return fmt.Errorf("could not convert: %w", err)
	}
	if f.out == "" {
		_, err = stdout.Write(out)
		return err
	}
	if err := os.WriteFile(f.out, out, 0o644); err != nil {
		return fmt.Errorf("could not write %q: %w", f.out, err)
	}
	return nil
}
