package rules

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// promtool runs promtool with args in dir (2 minutes at most) and fails
// the test unless it exits 0 and reports SUCCESS; about is added to the
// failure message (e.g. the rules under test).
func promtool(t *testing.T, dir, about string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "promtool", args...)
	cmd.Dir = dir
	res, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s\n%s", strings.Join(args, " "), res, about)
	require.Contains(t, string(res), "SUCCESS", "promtool %s:\n%s", strings.Join(args, " "), res)
}
