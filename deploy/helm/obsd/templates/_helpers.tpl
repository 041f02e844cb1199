{{/* The chart name, shortened to a DNS label. */}}
{{- define "obsd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource name. */}}
{{- define "obsd.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* agent or gateway, from the mode; fails on an unknown mode. */}}
{{- define "obsd.component" -}}
{{- if eq .Values.mode "daemonset" }}agent
{{- else if eq .Values.mode "deployment" }}gateway
{{- else }}{{ fail (printf "mode must be daemonset or deployment, not %q" .Values.mode) }}
{{- end }}
{{- end }}

{{- define "obsd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "obsd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ include "obsd.component" . }}
{{- end }}

{{- define "obsd.labels" -}}
{{ include "obsd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "obsd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "obsd.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Whether the mode evaluates SLOs (everything but a forwarding agent). */}}
{{- define "obsd.runsSLOs" -}}
{{- if not (and (eq .Values.mode "daemonset") .Values.forwardToGateway.enabled) }}true{{ end }}
{{- end }}

{{/*
The obsd config: the mode's default file, .Values.config merged over it,
and the Alertmanager URLs set into the slo connector.
*/}}
{{- define "obsd.config" -}}
{{- $file := "files/gateway.yaml" }}
{{- if eq .Values.mode "daemonset" }}
{{- $file = ternary "files/agent-forward.yaml" "files/agent.yaml" .Values.forwardToGateway.enabled }}
{{- end }}
{{- $cfg := mergeOverwrite (.Files.Get $file | fromYaml) (deepCopy .Values.config) }}
{{- if .Values.alertmanager.urls }}
{{- $am := dig "connectors" "slo" "alerting" "destinations" "alertmanager" "alertmanager" dict $cfg }}
{{- if not $am }}
{{- fail "alertmanager.urls is set but the config has no connectors.slo.alerting.destinations.alertmanager" }}
{{- end }}
{{- $_ := set $am "urls" .Values.alertmanager.urls }}
{{- end }}
{{- if not (include "obsd.readsLogs" .) }}
{{- include "obsd.withoutFileLog" $cfg }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* Whether the pods read the node's container logs (agents with logs.enabled). */}}
{{- define "obsd.readsLogs" -}}
{{- if and (eq .Values.mode "daemonset") .Values.logs.enabled }}true{{ end }}
{{- end }}

{{/*
Removes the file_log receiver and its uses from the config dict given (in
place), for logs.enabled=false; and its checkpoint storage too, unless an
exporter's queue or a connector keeps using it (wal_storage holds the
queues, the checkpoints and the SLO journal).
*/}}
{{- define "obsd.withoutFileLog" -}}
{{- $storage := dig "receivers" "file_log" "storage" "" . }}
{{- with .receivers }}{{ $_ := unset . "file_log" }}{{ end }}
{{- range $name, $p := (dig "service" "pipelines" dict .) }}
{{- if and (kindIs "map" $p) (hasKey $p "receivers") }}
{{- $_ := set $p "receivers" (without $p.receivers "file_log") }}
{{- end }}
{{- end }}
{{- range $kind := list "exporters" "connectors" }}
{{- range $name, $c := (dig $kind dict $) }}
{{- if and (kindIs "map" $c) (or (eq (dig "sending_queue" "storage" "" $c) $storage) (eq (dig "storage" "" $c) $storage)) }}
{{- $storage = "" }}
{{- end }}
{{- end }}
{{- end }}
{{- if $storage }}
{{- with .extensions }}{{ $_ := unset . $storage }}{{ end }}
{{- with .service }}{{ if hasKey . "extensions" }}{{ $_ := set . "extensions" (without .extensions $storage) }}{{ end }}{{ end }}
{{- end }}
{{- end }}

{{- define "obsd.resources" -}}
{{- if .Values.resources }}{{ toYaml .Values.resources }}
{{- else if eq .Values.mode "daemonset" }}{{ toYaml .Values.daemonset.resources }}
{{- else }}{{ toYaml .Values.deployment.resources }}
{{- end }}
{{- end }}
