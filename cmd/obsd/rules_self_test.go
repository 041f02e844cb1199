package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRulesSelfCommand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"the runbooks on GitHub are the default", []string{"rules", "self"},
			"runbook_url: https://github.com/obsd-dev/obsd/blob/main/docs/runbooks/circuit-open.md", ""},
		{"--runbook-base-url moves every link", []string{"rules", "self", "--runbook-base-url", "https://wiki.example/rb"},
			"runbook_url: https://wiki.example/rb/backend-down.md", ""},
		{"an empty base URL is an error", []string{"rules", "self", "--runbook-base-url", ""}, "", "runbook base URL is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newRootCommand()
			var out bytes.Buffer
			c.SetOut(&out)
			c.SetErr(&bytes.Buffer{})
			c.SetArgs(tc.args)
			err := c.Execute()
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, out.String(), tc.want)
		})
	}
}
