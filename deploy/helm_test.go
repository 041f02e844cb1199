package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const chartDir = "helm/obsd"

// helmBinary finds helm on PATH or in $(go env GOPATH)/bin. A missing helm
// fails the test: CI installs it with
//
//	GOFLAGS=-mod=mod GOTOOLCHAIN=local go install helm.sh/helm/v3/cmd/helm@v3.19.0
func helmBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("helm not found on PATH or in $(go env GOPATH)/bin; install it with: " +
		"GOFLAGS=-mod=mod GOTOOLCHAIN=local go install helm.sh/helm/v3/cmd/helm@v3.19.0 (outside the repository)")
	return ""
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// TestHelmChartFilesMatchSources keeps the chart's embedded default configs
// (Helm reads only files inside the chart) equal to the repository's.
func TestHelmChartFilesMatchSources(t *testing.T) {
	forward, err := agentForwardConfig(readFile(t, "../config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"agent.yaml":         readFile(t, "../config.example.yaml"),
		"agent-forward.yaml": forward,
		"gateway.yaml":       readFile(t, "../config.gateway.yaml"),
		"slos.yaml":          readFile(t, "../slo.example.yaml"),
	} {
		checkGolden(t, filepath.Join(chartDir, "files", file), []byte(want))
	}
}

func TestHelmLint(t *testing.T) {
	for _, set := range [][]string{nil, {"--set", "mode=deployment"}, {"--set", "forwardToGateway.enabled=true"}} {
		args := append([]string{"lint", "--strict", chartDir}, set...)
		if out, err := helm(t, args...); err != nil {
			t.Errorf("helm %v: %v\n%s", args, err, out)
		}
	}
}

// rendered is one `helm template` output, decoded strictly.
type rendered struct {
	manifests
	config string
	slos   map[string]string
}

func helmTemplate(t *testing.T, args ...string) rendered {
	t.Helper()
	args = append([]string{"template", "obsd", chartDir, "--namespace", "obsd"}, args...)
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %v: %v\n%s", args, err, out)
	}
	var r rendered
	r.addStream(t, "helm template", []byte(out))
	r.slos = map[string]string{}
	for _, cm := range r.configMaps {
		switch cm.Name {
		case "obsd-config":
			r.config = cm.Data["config.yaml"]
		case "obsd-slos":
			r.slos = cm.Data
		default:
			t.Errorf("unexpected ConfigMap %s", cm.Name)
		}
	}
	if r.config == "" {
		t.Fatal("no obsd-config ConfigMap with a config.yaml")
	}
	return r
}

func (r rendered) pod(t *testing.T) corev1.PodSpec {
	t.Helper()
	switch {
	case len(r.daemonSets) == 1 && len(r.deployments) == 0:
		return r.daemonSets[0].Spec.Template.Spec
	case len(r.deployments) == 1 && len(r.daemonSets) == 0:
		return r.deployments[0].Spec.Template.Spec
	}
	t.Fatalf("want exactly one DaemonSet or Deployment, got %d and %d", len(r.daemonSets), len(r.deployments))
	return corev1.PodSpec{}
}

func env(c corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

func TestHelmTemplateDaemonSet(t *testing.T) {
	r := helmTemplate(t)
	pod := r.pod(t)
	checkPod(t, "helm daemonset", pod, r.config)
	validateObsdConfigFiles(t, r.config, r.slos)
	c := pod.Containers[0]
	e := env(c)
	if f := e["K8S_NODE_NAME"].ValueFrom; f == nil || f.FieldRef == nil || f.FieldRef.FieldPath != "spec.nodeName" {
		t.Error("K8S_NODE_NAME must come from spec.nodeName")
	}
	if !slices.ContainsFunc(pod.Tolerations, func(t corev1.Toleration) bool { return t.Operator == corev1.TolerationOpExists && t.Key == "" }) {
		t.Error("the agent must tolerate every taint")
	}
	if pod.PriorityClassName != "system-node-critical" {
		t.Errorf("priority class %q", pod.PriorityClassName)
	}
	var hostPath string
	for _, v := range pod.Volumes {
		if v.HostPath != nil && v.Name == "state" {
			hostPath = v.HostPath.Path
		}
	}
	if hostPath != "/var/lib/obsd" || e["OBSD_STORAGE_DIR"].Value != "/var/lib/obsd" {
		t.Errorf("state on hostPath %q, OBSD_STORAGE_DIR %q", hostPath, e["OBSD_STORAGE_DIR"].Value)
	}
	if len(r.services) != 1 || r.services[0].Spec.InternalTrafficPolicy == nil || *r.services[0].Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyLocal {
		t.Error("the agent Service must keep traffic on the node")
	} else {
		checkServiceTargets(t, r.services[0], c)
	}
	if len(r.clusterRoles) != 1 || len(r.clusterRoles[0].Rules) != 1 ||
		!slices.Equal(r.clusterRoles[0].Rules[0].Resources, []string{"pods"}) || !slices.Equal(r.clusterRoles[0].Rules[0].Verbs, []string{"list"}) {
		t.Errorf("the agent's ClusterRole must be exactly pods list (what k8smeta needs): %+v", r.clusterRoles)
	}
	if len(r.pdbs) != 0 || len(r.pvcs) != 0 {
		t.Error("a DaemonSet has no PodDisruptionBudget and no PVC")
	}
	if !strings.Contains(r.config, "k8smeta") || len(r.slos) == 0 {
		t.Error("the agent enriches pod metadata and evaluates SLOs")
	}
	hostPorts := 0
	for _, p := range c.Ports {
		if p.HostPort != 0 {
			hostPorts++
		}
	}
	if hostPorts == 0 {
		t.Error("the agent exposes hostPorts by default")
	}
}

func TestHelmTemplateDeployment(t *testing.T) {
	r := helmTemplate(t, "--set", "mode=deployment")
	pod := r.pod(t)
	checkPod(t, "helm deployment", pod, r.config)
	validateObsdConfigFiles(t, r.config, r.slos)
	d := r.deployments[0]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != "Recreate" {
		t.Error("the gateway runs one replica per shard with the Recreate strategy")
	}
	if len(r.pdbs) != 1 || !selects(r.pdbs[0].Spec.Selector, d.Spec.Template.Labels) {
		t.Error("the gateway needs a PodDisruptionBudget selecting its pods")
	}
	if len(r.pvcs) != 1 {
		t.Fatal("the gateway's state needs a PVC")
	}
	var claim string
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != r.pvcs[0].Name {
		t.Errorf("state volume claims %q, the PVC is %q", claim, r.pvcs[0].Name)
	}
	if len(r.clusterRoles) != 0 || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the gateway reads no Kubernetes API: no ClusterRole, no token")
	}
	if strings.Contains(r.config, "k8smeta") {
		t.Error("the gateway must not run k8smeta (its senders are agents, not pods)")
	}
	if len(r.services) != 1 || r.services[0].Spec.InternalTrafficPolicy != nil {
		t.Error("the gateway Service balances across the cluster")
	} else {
		checkServiceTargets(t, r.services[0], pod.Containers[0])
	}
}

func TestHelmTemplateForwardingAgent(t *testing.T) {
	r := helmTemplate(t, "--set", "forwardToGateway.enabled=true", "--set", "forwardToGateway.endpoint=gw.obsd.svc:4317")
	pod := r.pod(t)
	checkPod(t, "helm forwarding agent", pod, r.config)
	validateObsdConfigFiles(t, r.config, nil)
	if len(r.slos) != 0 || strings.Contains(r.config, "slo:") {
		t.Error("a forwarding agent evaluates no SLOs")
	}
	if got := env(pod.Containers[0])["OBSD_GATEWAY_ENDPOINT"].Value; got != "gw.obsd.svc:4317" {
		t.Errorf("OBSD_GATEWAY_ENDPOINT = %q", got)
	}
	if !strings.Contains(r.config, "${env:OBSD_GATEWAY_ENDPOINT") {
		t.Error("the forwarding agent's exporters read OBSD_GATEWAY_ENDPOINT")
	}
}

// sloAlertMode=ruler reaches the agents' slo connector: the pod sets
// OBSD_SLO_ALERT_MODE, the config reads it, and obsd validates the config
// with the pod's value (and refuses a value that is no mode, so the config
// does read it). A gateway or a forwarding agent refuses it.
func TestHelmTemplateRulerMode(t *testing.T) {
	r := helmTemplate(t, "--set", "sloAlertMode=ruler")
	pod := r.pod(t)
	checkPod(t, "helm ruler agents", pod, r.config)
	mode := env(pod.Containers[0])["OBSD_SLO_ALERT_MODE"]
	if mode.Value != "ruler" {
		t.Fatalf("OBSD_SLO_ALERT_MODE = %q, want ruler", mode.Value)
	}
	if !strings.Contains(r.config, "alert_mode: ${env:OBSD_SLO_ALERT_MODE:-local}") {
		t.Error("the agent's slo connector does not read OBSD_SLO_ALERT_MODE")
	}
	if out, err := obsdValidate(t, r.config, r.slos, "OBSD_SLO_ALERT_MODE="+mode.Value, "K8S_NODE_NAME=node-1"); err != nil {
		t.Fatalf("obsd validate with OBSD_SLO_ALERT_MODE=ruler: %v\n%s", err, out)
	}
	if out, err := obsdValidate(t, r.config, r.slos, "OBSD_SLO_ALERT_MODE=cluster"); err == nil || !strings.Contains(out, "alert_mode") {
		t.Errorf("obsd validate with OBSD_SLO_ALERT_MODE=cluster: want an error naming alert_mode, got %v:\n%s", err, out)
	}
	if def := env(helmTemplate(t).pod(t).Containers[0]); def["OBSD_SLO_ALERT_MODE"].Value != "" {
		t.Errorf("by default the chart leaves the mode to the config, got %q", def["OBSD_SLO_ALERT_MODE"].Value)
	}
	for _, args := range [][]string{{"--set", "mode=deployment"}, {"--set", "forwardToGateway.enabled=true"}} {
		args = append([]string{"template", "obsd", chartDir, "--set", "sloAlertMode=ruler"}, args...)
		if out, err := helm(t, args...); err == nil || !strings.Contains(out, "sloAlertMode=ruler is for agents that evaluate SLOs") {
			t.Errorf("helm %v: want the chart to refuse sloAlertMode, got %v:\n%s", args, err, out)
		}
	}
}

func TestHelmTemplateValues(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte(`
mode: deployment
alertmanager:
  urls: [http://am-0.am:9093, http://am-1.am:9093]
config:
  processors:
    memory_limiter: {limit_mib: 700, spike_limit_mib: 100}
slos:
  checkout.yaml: |
`+indent(readFile(t, "../slo.example.yaml"), "    ")+`
resources:
  limits: {cpu: "1", memory: 1Gi}
  requests: {cpu: 100m, memory: 512Mi}
tolerations: [{key: dedicated, operator: Equal, value: observability, effect: NoSchedule}]
priorityClassName: obsd-high
extraEnv: [{name: TEAM, value: sre}]
persistence: {enabled: false}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := helmTemplate(t, "-f", values)
	pod := r.pod(t)
	checkPod(t, "helm values", pod, r.config)
	validateObsdConfigFiles(t, r.config, r.slos)
	for _, want := range []string{"http://am-0.am:9093", "http://am-1.am:9093", "limit_mib: 700"} {
		if !strings.Contains(r.config, want) {
			t.Errorf("the rendered config lacks %q", want)
		}
	}
	if _, ok := r.slos["checkout.yaml"]; !ok || len(r.slos) != 1 {
		t.Errorf("SLO files from values: %v", slices.Collect(mapKeys(r.slos)))
	}
	if pod.PriorityClassName != "obsd-high" || len(pod.Tolerations) != 1 || pod.Tolerations[0].Key != "dedicated" {
		t.Error("priorityClassName and tolerations from values")
	}
	if env(pod.Containers[0])["TEAM"].Value != "sre" {
		t.Error("extraEnv from values")
	}
	if len(r.pvcs) != 0 || len(r.deployments) != 1 || r.deployments[0].Spec.Strategy.Type == "Recreate" {
		t.Error("persistence disabled: no PVC, an emptyDir, a rolling update")
	}
	for _, v := range pod.Volumes {
		if v.Name == "state" && v.EmptyDir == nil {
			t.Error("persistence disabled: the state volume is an emptyDir")
		}
	}
}

func TestHelmTemplateRefusesBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown mode", []string{"--set", "mode=statefulset"}, "/mode"},
		{"an SLO file name that the glob would miss", []string{"--set-string", "slos.checkout=x"}, "'checkout' does not match"},
		{"an Alertmanager URL without a scheme", []string{"--set", "alertmanager.urls[0]=alertmanager:9093"}, "/alertmanager/urls/0"},
		{"a gateway endpoint that is a URL, not host:port", []string{"--set", "forwardToGateway.endpoint=http://gw:4317"}, "/forwardToGateway/endpoint"},
		{"a relative hostPath", []string{"--set", "persistence.hostPath=var/lib/obsd"}, "/persistence/hostPath"},
		{"an SLO alert mode that is none", []string{"--set", "sloAlertMode=cluster"}, "/sloAlertMode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"template", "obsd", chartDir}, tt.args...)
			out, err := helm(t, args...)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("helm %v: want an error with %q, got %v:\n%s", args, tt.want, err, out)
			}
		})
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
