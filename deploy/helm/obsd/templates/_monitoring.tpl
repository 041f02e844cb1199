{{/*
Prometheus Operator and Grafana sidecar objects (servicemonitor.yaml,
podmonitor.yaml, prometheusrule.yaml, dashboards.yaml).
*/}}

{{/*
The digest of the SLO files this release mounts (slos, or the example),
as `obsd slo rules` and `obsd dashboards generate` write it in the
annotation obsd.dev/slo-files-sha256 (internal/k8smanifest.DigestContents):
the SHA-256 of each file, sorted, joined with "\n", hashed again.
*/}}
{{- define "obsd.sloFilesDigest" -}}
{{- $files := .Values.slos | default (dict "slos.yaml" (.Files.Get "files/slos.yaml")) }}
{{- $sums := list }}
{{- range $_, $content := $files }}
{{- $sums = append $sums (sha256sum $content) }}
{{- end }}
{{- sortAlpha $sums | join "\n" | sha256sum }}
{{- end }}

{{/*
Fails unless the generated object $obj (a dict) came from this release's
SLO files. $ctx: the root context; $value: the values key it came from.
*/}}
{{- define "obsd.checkSLODigest" -}}
{{- $ctx := index . 0 }}{{- $obj := index . 1 }}{{- $value := index . 2 }}{{- $command := index . 3 }}
{{- $got := dig "metadata" "annotations" "obsd.dev/slo-files-sha256" "" $obj }}
{{- $want := include "obsd.sloFilesDigest" $ctx }}
{{- if not $got }}
{{- fail (printf "%s: %s %q has no obsd.dev/slo-files-sha256 annotation; give the output of: %s --slo <the files of slos>" $value $obj.kind (dig "metadata" "name" "" $obj) $command) }}
{{- end }}
{{- if ne $got $want }}
{{- fail (printf "%s was generated from other SLO files than the chart's slos (digest %s, slos give %s): regenerate it with: %s --slo <the files of slos>" $value $got $want $command) }}
{{- end }}
{{- end }}

{{/* The scrape endpoint's settings shared by the ServiceMonitor and the PodMonitor. */}}
{{- define "obsd.scrapeEndpoint" -}}
{{- $v := index . 1 }}{{- $ := index . 0 -}}
path: /metrics
scheme: http
honorLabels: {{ $v.honorLabels }}
{{- with $v.interval }}
interval: {{ . }}
{{- end }}
{{- with $v.scrapeTimeout }}
scrapeTimeout: {{ . }}
{{- end }}
{{- if or (eq $.Values.mode "daemonset") $v.relabelings }}
relabelings:
  {{- if eq $.Values.mode "daemonset" }}
  # Which node's agent a series comes from.
  - action: replace
    sourceLabels: [__meta_kubernetes_pod_node_name]
    targetLabel: node
  {{- end }}
  {{- with $v.relabelings }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- with $v.metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Fails on a monitoring setup that cannot scrape obsd. */}}
{{- define "obsd.checkMonitors" -}}
{{- if and .Values.serviceMonitor.enabled .Values.podMonitor.enabled }}
{{- fail "serviceMonitor.enabled and podMonitor.enabled would scrape every obsd pod twice: enable one" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.service.enabled) }}
{{- fail "serviceMonitor.enabled needs service.enabled (the ServiceMonitor selects the Service); or use podMonitor.enabled" }}
{{- end }}
{{- $mode := ternary .Values.daemonset .Values.deployment (eq .Values.mode "daemonset") }}
{{- $found := false }}
{{- range $mode.ports }}{{ if eq .name "metrics" }}{{ $found = true }}{{ end }}{{ end }}
{{- if not $found }}
{{- fail (printf "%s.ports has no port named metrics (obsd's /metrics, the config's service.telemetry port) for the ServiceMonitor or PodMonitor to scrape" .Values.mode) }}
{{- end }}
{{- end }}
