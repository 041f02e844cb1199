// Package cluster holds the end-to-end test of cluster-wide SLOs: obsd
// agents in alert_mode ruler each count their share of a service's spans
// and log records and remote-write their exact window sums to a real
// Prometheus 2.42 (internal/promtest) that runs the rules `obsd slo rules`
// exports; a third obsd sees every span and record and decides the same
// SLOs in-process. The two must agree: error ratios per window, the page's
// firing time, labels and runbook, across a SIGKILL of one agent. A
// remote-write proxy measures what the agents send (series, bytes per
// sample). It takes about eight minutes.
package cluster

import (
	"testing"

	"github.com/obsd-dev/obsd/e2e/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
