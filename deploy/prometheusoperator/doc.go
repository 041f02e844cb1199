// Package prometheusoperator tests the Helm chart's Prometheus Operator and
// Grafana sidecar objects (deploy/helm/obsd: ServiceMonitor, PodMonitor,
// PrometheusRule, dashboard ConfigMaps) by decoding them strictly into the
// Prometheus Operator's own Go types. It is a module of its own so that the
// operator's API module, which asks for newer k8s.io modules than obsd's
// build uses, never enters obsd's module graph or binary.
package prometheusoperator
