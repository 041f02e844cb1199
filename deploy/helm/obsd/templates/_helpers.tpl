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
{{- toYaml $cfg }}
{{- end }}

{{- define "obsd.resources" -}}
{{- if .Values.resources }}{{ toYaml .Values.resources }}
{{- else if eq .Values.mode "daemonset" }}{{ toYaml .Values.daemonset.resources }}
{{- else }}{{ toYaml .Values.deployment.resources }}
{{- end }}
{{- end }}

{{/* The pod template shared by the DaemonSet and the Deployment. */}}
{{- define "obsd.podTemplate" -}}
{{- $agent := eq .Values.mode "daemonset" }}
{{- $mode := ternary .Values.daemonset .Values.deployment $agent -}}
metadata:
  labels:
    {{- include "obsd.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "obsd.config" . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "obsd.serviceAccountName" . }}
  {{- if not $agent }}
  # The gateway reads no Kubernetes API.
  automountServiceAccountToken: false
  {{- end }}
  priorityClassName: {{ default $mode.priorityClassName .Values.priorityClassName }}
  terminationGracePeriodSeconds: 60
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with (default $mode.tolerations .Values.tolerations) }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  {{- if $agent }}
  initContainers:
    # The hostPath is created root-owned; hand it to obsd's user once.
    - name: state-dir
      image: busybox:1.36
      command: ["sh", "-c", "mkdir -p /var/lib/obsd/queue && chmod 0750 /var/lib/obsd && chown -R 10001:10001 /var/lib/obsd"]
      securityContext:
        runAsNonRoot: false
        runAsUser: 0
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
          add: ["CHOWN"]
      volumeMounts:
        - name: state
          mountPath: /var/lib/obsd
      resources:
        requests: {cpu: 10m, memory: 16Mi}
        limits: {cpu: 100m, memory: 32Mi}
  {{- end }}
  containers:
    - name: obsd
      image: "{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["--config", "/etc/obsd/config/config.yaml"]
      env:
        {{- if $agent }}
        - name: K8S_NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: K8S_NODE_IP
          valueFrom:
            fieldRef:
              fieldPath: status.hostIP
        {{- end }}
        - name: K8S_POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
        - name: OBSD_STORAGE_DIR
          value: /var/lib/obsd
        - name: OBSD_SLO_FILES
          value: /etc/obsd/slos/*.yaml
        - name: GOMEMLIMIT
          value: {{ $mode.goMemLimit | quote }}
        {{- with .Values.otlpEndpoint }}
        - name: OBSD_OTLP_ENDPOINT
          value: {{ . | quote }}
        {{- end }}
        - name: OBSD_OTLP_INSECURE
          value: {{ .Values.otlpInsecure | quote }}
        {{- with .Values.remoteWriteURL }}
        - name: OBSD_REMOTE_WRITE_URL
          value: {{ . | quote }}
        {{- end }}
        {{- with .Values.lokiURL }}
        - name: OBSD_LOKI_URL
          value: {{ . | quote }}
        {{- end }}
        {{- with .Values.grafanaURL }}
        - name: OBSD_GRAFANA_URL
          value: {{ . | quote }}
        {{- end }}
        {{- if and $agent .Values.forwardToGateway.enabled }}
        - name: OBSD_GATEWAY_ENDPOINT
          value: {{ .Values.forwardToGateway.endpoint | quote }}
        - name: OBSD_GATEWAY_INSECURE
          value: {{ .Values.forwardToGateway.insecure | quote }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        {{- range $mode.ports }}
        - name: {{ .name }}
          containerPort: {{ .containerPort }}
          {{- if and $agent $.Values.daemonset.hostPorts .hostPort }}
          hostPort: {{ .containerPort }}
          {{- end }}
          protocol: {{ .protocol }}
        {{- end }}
        - name: health
          containerPort: {{ .Values.healthPort }}
          protocol: TCP
      livenessProbe:
        httpGet:
          path: /
          port: health
        initialDelaySeconds: 10
        periodSeconds: 10
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /
          port: health
        periodSeconds: 5
        failureThreshold: 2
      resources:
        {{- include "obsd.resources" . | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: config
          mountPath: /etc/obsd/config
          readOnly: true
        {{- if include "obsd.runsSLOs" . }}
        - name: slos
          mountPath: /etc/obsd/slos
          readOnly: true
        {{- end }}
        - name: state
          mountPath: /var/lib/obsd
  volumes:
    - name: config
      configMap:
        name: {{ include "obsd.fullname" . }}-config
    {{- if include "obsd.runsSLOs" . }}
    - name: slos
      configMap:
        name: {{ include "obsd.fullname" . }}-slos
    {{- end }}
    - name: state
      {{- if $agent }}
      hostPath:
        path: {{ .Values.persistence.hostPath }}
        type: DirectoryOrCreate
      {{- else if .Values.persistence.enabled }}
      persistentVolumeClaim:
        claimName: {{ default (printf "%s-state" (include "obsd.fullname" .)) .Values.persistence.existingClaim }}
      {{- else }}
      emptyDir: {}
      {{- end }}
{{- end }}
