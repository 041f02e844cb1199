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
    {{- if include "obsd.readsLogs" . }}
    # containerd and Docker write the container logs 0640 root:root: the
    # group 0 reads them, without root and without any capability.
    supplementalGroups: [0]
    {{- end }}
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
        {{- if include "obsd.readsLogs" . }}
        # file_log skips this DaemonSet's own container logs by these.
        - name: K8S_POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: OBSD_DAEMONSET_NAME
          value: {{ include "obsd.fullname" . | quote }}
        {{- end }}
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
        {{- with .Values.sloAlertMode }}
        {{- if or (not $agent) $.Values.forwardToGateway.enabled }}
        {{- fail (printf "sloAlertMode=%s is for agents that evaluate SLOs (mode daemonset without forwardToGateway): the gateway's config decides its alerts itself (local); drop sloAlertMode or run the agents with it" .) }}
        {{- end }}
        - name: OBSD_SLO_ALERT_MODE
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
      # Live while the process is: the traces pipeline's status leaves out
      # the exporter circuit breakers, which make "/" (readiness) fail while
      # every backend is down; restarting would not help then.
      livenessProbe:
        httpGet:
          path: /?pipeline=traces
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
        {{- if include "obsd.readsLogs" . }}
        # The container logs, read-only, at the node's paths so that
        # symlinks resolve.
        - name: varlogpods
          mountPath: /var/log/pods
          readOnly: true
        {{- with .Values.logs.dockerContainersPath }}
        - name: dockercontainers
          mountPath: {{ . }}
          readOnly: true
        {{- end }}
        {{- end }}
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
    {{- if include "obsd.readsLogs" . }}
    - name: varlogpods
      hostPath:
        path: /var/log/pods
        type: Directory
    {{- with .Values.logs.dockerContainersPath }}
    # On a node without Docker this creates an empty directory.
    - name: dockercontainers
      hostPath:
        path: {{ . }}
        type: DirectoryOrCreate
    {{- end }}
    {{- end }}
{{- end }}
