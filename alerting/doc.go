// Package alerting turns SLO alert transitions into Alertmanager alerts and
// delivers them without loss.
//
// It owns the alert model (labels, templated annotations), the Prometheus-like
// lifecycle (pending is kept, firing is sent and re-sent with endsAt ahead,
// resolved is sent explicitly and re-sent for a retention period), the route
// tree (Alertmanager matcher syntax, continue, nested routes) and durable
// delivery (an on-disk outbox per destination, retries with exponential
// backoff and jitter, a timeout per request and a circuit breaker per
// endpoint, plus a fallback destination).
//
// The package is pure library code: it imports neither the collector nor the
// SLO engine, only the SLO contract (slo/contract): the engine emits
// contract.Transition values and the connector hands them, unchanged, to
// Manager.Notify.
package alerting
