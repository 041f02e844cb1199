// Package contract owns the SLO contract that obsd's parts share: the
// obsd_slo_* metric and label names and the window labels the slo connector
// emits, the uid and path of each SLO's generated Grafana dashboard, and the
// alert transition with its states and severities. The SLO engine produces
// these; alerting, dashboards, exported rules, self-rules and the status
// page consume them. Each name is defined here once and imported
// everywhere else. The package imports nothing of obsd.
package contract
