package slo

import (
	"errors"
	"fmt"
	"os"

	"github.com/obsd-dev/obsd/slo/contract"
)

// Where alerts are decided (Config.AlertMode).
//
// A DaemonSet agent sees only its node's share of a multi-replica
// service: alerting on it gives one partial burn rate, and one page, per
// node. In ruler mode the agents only count; each exports the exact event
// sums of every alert window (obsd_slo_window_events and
// obsd_slo_window_bad_events, stamped at wall-clock-aligned evaluation
// instants), and the rules `obsd slo rules` writes add them across agents
// in a Prometheus, Mimir or VictoriaMetrics ruler, which alerts once.

// decidesLocally reports whether this obsd sends the SLOs' alerts.
func (c *Config) decidesLocally() bool { return c.AlertMode != contract.AlertsRuler }

// exportsSums reports whether this obsd exports the window sums.
func (c *Config) exportsSums() bool {
	return c.AlertMode == contract.AlertsRuler || c.AlertMode == contract.AlertsBoth
}

// validateAlertMode checks alert_mode and what it needs.
func (c *Config) validateAlertMode() []error {
	switch c.AlertMode {
	case contract.AlertsLocal:
		return nil
	case contract.AlertsRuler, contract.AlertsBoth:
	default:
		return []error{fmt.Errorf("'alert_mode' must be %q, %q or %q, not %q", contract.AlertsLocal, contract.AlertsRuler, contract.AlertsBoth, c.AlertMode)}
	}
	if c.State.Directory == "" {
		// Without a snapshot a restarted agent's share of every window
		// drops to zero, and the ruler's cluster-wide ratios with it.
		return []error{fmt.Errorf("'state.directory' is required when 'alert_mode' is %q: the exported window sums must survive a restart", c.AlertMode)}
	}
	return nil
}

// instanceID is the agent identity exported as service.instance.id: the
// 'instance' setting, else the host name.
func (c *Config) instanceID() (string, error) {
	if c.Instance != "" {
		return c.Instance, nil
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "", errors.Join(errors.New("'instance' is empty and the host name is unknown: set 'instance' (e.g. ${env:K8S_NODE_NAME})"), err)
	}
	return h, nil
}
