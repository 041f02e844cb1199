package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSLOLintExitStatus(t *testing.T) {
	const dir = "../../slo/lint/testdata/"
	for _, tc := range []struct {
		name  string
		files []string
		flags lintFlags
		code  int
		out   string
	}{
		{"a clean file exits 0 and prints nothing", []string{dir + "clean.yaml"}, lintFlags{}, 0, ""},
		{"errors exit 1", []string{dir + "problems.yaml"}, lintFlags{}, 1, "problems.yaml:5: error: "},
		{"warnings alone exit 0", []string{dir + "sloth.yaml"}, lintFlags{allowMissingRunbook: true}, 0, "warning: "},
		{"warnings exit 1 with --werror", []string{dir + "sloth.yaml"}, lintFlags{allowMissingRunbook: true, werror: true}, 1, "warning: "},
		{"a Sloth file without a runbook exits 0", []string{dir + "sloth.yaml"}, lintFlags{}, 0, "warning: slo \"myservice-requests-availability\": page alerts have no runbook URL"},
		{"--strict makes the missing runbook an error", []string{dir + "sloth.yaml"}, lintFlags{strict: true}, 1, "error: slo \"myservice-requests-availability\": page alerts have no runbook URL"},
		{"keys Sloth ignores are warnings", []string{"../../slo/formats/sloth/testdata/lenient.yaml"}, lintFlags{allowMissingRunbook: true}, 0,
			"warning: slo \"api-availability\": 'alerting.pageAlert' is ignored (Sloth ignores it too): did you mean 'alerting.page_alert'?"},
		{"--strict makes them errors", []string{"../../slo/formats/sloth/testdata/lenient.yaml"}, lintFlags{allowMissingRunbook: true, strict: true}, 1,
			"error: slo \"api-availability\": 'alerting.pageAlert' is ignored"},
		{"an unreadable input exits 2", []string{dir + "nope.yaml"}, lintFlags{}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runLint(&out, &errOut, tc.files, tc.flags)
			assert.Equal(t, tc.code, code, errOut.String())
			if tc.out == "" {
				assert.Empty(t, out.String())
			} else {
				assert.Contains(t, out.String(), tc.out)
			}
		})
	}
}

func TestSLOLintIsRegistered(t *testing.T) {
	c, _, err := newSLOCommand().Find([]string{"lint"})
	assert.NoError(t, err)
	assert.Equal(t, "lint", c.Name())
}
