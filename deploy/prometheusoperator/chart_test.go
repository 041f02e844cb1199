package prometheusoperator

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
)

const allSwitches = "serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboards.enabled=true"

func TestChartLintsWithEverySwitch(t *testing.T) {
	for _, set := range [][]string{
		{"--set", allSwitches},
		{"--set", "mode=deployment,podMonitor.enabled=true,prometheusRule.enabled=true,dashboards.enabled=true"},
		{"--set", "forwardToGateway.enabled=true," + allSwitches},
	} {
		args := append([]string{"lint", "--strict", chartDir}, set...)
		if out, err := helm(t, args...); err != nil {
			t.Errorf("helm %v: %v\n%s", args, err, out)
		}
	}
}

// monitoringCase is one set of values and what the chart must render.
type monitoringCase struct {
	name string
	args []string
	// Which monitor, if any, scrapes the pods.
	serviceMonitor, podMonitor bool
	// The PrometheusRules by name, and the `obsd rules self` flags their
	// self-alerts must equal.
	rules     []string
	selfFlags []string
	// The dashboards by file name; all: every dashboard of the example SLOs.
	dashboards    []string
	allDashboards bool
	// Labels every monitoring object must carry beyond the chart's.
	labels map[string]string
	// The dashboards' namespace and folder annotation (key: value).
	dashboardNamespace, folderKey, folder string
}

func TestChartMonitoringObjects(t *testing.T) {
	tests := []monitoringCase{
		{name: "every switch is off by default"},
		{name: "an agent with a ServiceMonitor, both rule sets and every dashboard, labelled for kube-prometheus-stack",
			args:           []string{"--set", allSwitches, "--set", "serviceMonitor.labels.release=kps,prometheusRule.labels.release=kps"},
			serviceMonitor: true, rules: []string{"obsd-self-alerts", "obsd-slo-rules"}, allDashboards: true,
			labels: map[string]string{"release": "kps"}, dashboardNamespace: "obsd", folderKey: "grafana_folder", folder: "obsd"},
		{name: "a gateway with a PodMonitor, moved runbooks and its dashboards in Grafana's namespace and folder",
			args: []string{"--set", "mode=deployment,podMonitor.enabled=true,podMonitor.interval=15s,prometheusRule.enabled=true,dashboards.enabled=true",
				"--set", "prometheusRule.runbookBaseURL=https://wiki.example/obsd/runbooks/",
				"--set", "dashboards.namespace=grafana,dashboards.folderAnnotation=k8s-sidecar-target-directory,dashboards.folder=/tmp/dashboards/obsd"},
			podMonitor: true, rules: []string{"obsd-self-alerts", "obsd-slo-rules"}, selfFlags: []string{"--runbook-base-url", "https://wiki.example/obsd/runbooks"},
			allDashboards: true, dashboardNamespace: "grafana", folderKey: "k8s-sidecar-target-directory", folder: "/tmp/dashboards/obsd"},
		{name: "a forwarding agent evaluates no SLOs: self-alerts and the agent health dashboard only",
			args:           []string{"--set", "forwardToGateway.enabled=true," + allSwitches},
			serviceMonitor: true, rules: []string{"obsd-self-alerts"}, dashboards: []string{"obsd-agent-health.json"},
			dashboardNamespace: "obsd", folderKey: "grafana_folder", folder: "obsd"},
		{name: "self-alerts and the agent health dashboard turned off for a second release",
			args:  []string{"--set", "mode=deployment,prometheusRule.enabled=true,prometheusRule.selfRules=false,dashboards.enabled=true,dashboards.agentHealth=false,dashboards.folder="},
			rules: []string{"obsd-slo-rules"}, dashboards: []string{"obsd-slo-api-availability.json", "obsd-slo-checkout-availability.json", "obsd-slo-checkout-latency.json", "obsd-slos-overview.json"},
			dashboardNamespace: "obsd"},
	}
	example := generatedDashboards(t, exampleSLOs)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := render(t, tt.args...)
			pod := r.podTemplate(t)
			checkMonitors(t, tt, r, pod)
			checkRules(t, tt, r)
			want := map[string]string{}
			for _, name := range tt.dashboards {
				want[name] = example[name]
			}
			if tt.allDashboards {
				want = example
			}
			checkDashboards(t, tt, r.dashboards(t), want)
		})
	}
}

func checkMonitors(t *testing.T, tt monitoringCase, r rendered, pod corev1.PodTemplateSpec) {
	t.Helper()
	if got := len(r.serviceMonitors); got != map[bool]int{true: 1}[tt.serviceMonitor] {
		t.Fatalf("%d ServiceMonitors", got)
	}
	if got := len(r.podMonitors); got != map[bool]int{true: 1}[tt.podMonitor] {
		t.Fatalf("%d PodMonitors", got)
	}
	var metricsPort int32
	for _, p := range pod.Spec.Containers[0].Ports {
		if p.Name == "metrics" {
			metricsPort = p.ContainerPort
		}
	}
	if metricsPort != 8888 {
		t.Errorf("the container's metrics port is %d, want obsd's telemetry port 8888", metricsPort)
	}
	agent := len(r.daemonSets) == 1
	checkEndpoint := func(kind string, port string, ep monitoringv1.Endpoint) {
		if ep.Path != "/metrics" || !ep.HonorLabels {
			t.Errorf("%s scrapes %q with honorLabels %v: want /metrics with honorLabels, so obsd_slo_*'s service label survives", kind, ep.Path, ep.HonorLabels)
		}
		nodeLabel := slices.ContainsFunc(ep.RelabelConfigs, func(rc monitoringv1.RelabelConfig) bool {
			return rc.TargetLabel == "node" && slices.Equal(rc.SourceLabels, []monitoringv1.LabelName{"__meta_kubernetes_pod_node_name"})
		})
		if nodeLabel != agent {
			t.Errorf("%s: a node label from the pod's node on agents only; agent %v, relabelings %+v", kind, agent, ep.RelabelConfigs)
		}
	}
	for _, sm := range r.serviceMonitors {
		checkLabels(t, "ServiceMonitor", sm.Labels, tt.labels)
		if len(r.services) != 1 || !selects(sm.Spec.Selector, r.services[0].Labels) {
			t.Fatalf("the ServiceMonitor's selector %v must select the chart's Service", sm.Spec.Selector)
		}
		if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{"obsd"}) {
			t.Errorf("the ServiceMonitor must look in the release namespace only: %+v", sm.Spec.NamespaceSelector)
		}
		if len(sm.Spec.Endpoints) != 1 {
			t.Fatalf("%d endpoints", len(sm.Spec.Endpoints))
		}
		ep := sm.Spec.Endpoints[0]
		svcPort := slices.IndexFunc(r.services[0].Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port })
		if svcPort < 0 || r.services[0].Spec.Ports[svcPort].TargetPort.String() != "metrics" {
			t.Errorf("the ServiceMonitor's port %q must be the Service port targeting the container's metrics port", ep.Port)
		}
		checkEndpoint("ServiceMonitor", ep.Port, ep)
	}
	for _, pm := range r.podMonitors {
		checkLabels(t, "PodMonitor", pm.Labels, tt.labels)
		if !selects(pm.Spec.Selector, pod.Labels) {
			t.Fatalf("the PodMonitor's selector %v must select the pods %v", pm.Spec.Selector, pod.Labels)
		}
		if len(pm.Spec.PodMetricsEndpoints) != 1 {
			t.Fatalf("%d endpoints", len(pm.Spec.PodMetricsEndpoints))
		}
		ep := pm.Spec.PodMetricsEndpoints[0]
		if ep.Port == nil || *ep.Port != "metrics" {
			t.Errorf("the PodMonitor must scrape the container port named metrics, not %v", ep.Port)
		}
		if ep.Interval != "15s" {
			t.Errorf("podMonitor.interval: %q", ep.Interval)
		}
		checkEndpoint("PodMonitor", "metrics", monitoringv1.Endpoint{Path: ep.Path, HonorLabels: ep.HonorLabels, RelabelConfigs: ep.RelabelConfigs})
	}
}

func checkLabels(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s label %s=%q, want %q (to match the Prometheus' selector)", what, k, got[k], v)
		}
	}
	if got["app.kubernetes.io/instance"] != "obsd" {
		t.Errorf("%s lacks the chart's labels: %v", what, got)
	}
}

func checkRules(t *testing.T, tt monitoringCase, r rendered) {
	t.Helper()
	var names []string
	for name := range r.rules {
		names = append(names, name)
	}
	sort.Strings(names)
	if !slices.Equal(names, tt.rules) {
		t.Fatalf("PrometheusRules %v, want %v", names, tt.rules)
	}
	want := map[string][]monitoringv1.RuleGroup{
		"obsd-self-alerts": ruleGroups(t, obsd(t, append([]string{"rules", "self"}, tt.selfFlags...)...)),
		"obsd-slo-rules":   ruleGroups(t, obsd(t, "slo", "rules", "--slo", exampleSLOs)),
	}
	for name, pr := range r.rules {
		checkLabels(t, "PrometheusRule "+name, pr.Labels, tt.labels)
		if !reflect.DeepEqual(pr.Spec.Groups, want[name]) {
			t.Errorf("PrometheusRule %s: its groups differ from what the obsd command writes", name)
		}
		promtoolCheck(t, name, pr.Spec.Groups)
		for _, g := range pr.Spec.Groups {
			for _, rule := range g.Rules {
				if u := rule.Annotations["runbook_url"]; name == "obsd-self-alerts" && !strings.HasPrefix(u, wantRunbookBase(tt)) {
					t.Errorf("%s runbook_url %q, want it under %s", rule.Alert, u, wantRunbookBase(tt))
				}
			}
		}
	}
}

func wantRunbookBase(tt monitoringCase) string {
	if len(tt.selfFlags) == 2 {
		return tt.selfFlags[1] + "/"
	}
	return "https://github.com/obsd-dev/obsd/blob/main/docs/runbooks/"
}

func checkDashboards(t *testing.T, tt monitoringCase, got map[string]corev1.ConfigMap, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d dashboard ConfigMaps, want %d", len(got), len(want))
	}
	for key, json := range want {
		cm, ok := got[key]
		if !ok {
			t.Errorf("no ConfigMap holds %s", key)
			continue
		}
		if cm.Data[key] != json {
			t.Errorf("ConfigMap %s: %s is not the JSON `obsd dashboards generate` writes", cm.Name, key)
		}
		if cm.Labels["grafana_dashboard"] != "1" {
			t.Errorf("ConfigMap %s lacks the sidecar's label grafana_dashboard: \"1\": %v", cm.Name, cm.Labels)
		}
		if cm.Namespace != tt.dashboardNamespace {
			t.Errorf("ConfigMap %s in namespace %q, want %q", cm.Name, cm.Namespace, tt.dashboardNamespace)
		}
		wantAnn := map[string]string{}
		if tt.folderKey != "" {
			wantAnn[tt.folderKey] = tt.folder
		}
		if len(cm.Annotations) != len(wantAnn) || (tt.folderKey != "" && cm.Annotations[tt.folderKey] != tt.folder) {
			t.Errorf("ConfigMap %s annotations %v, want %v", cm.Name, cm.Annotations, wantAnn)
		}
		if !strings.HasPrefix(cm.Name, "obsd-dashboard-") {
			t.Errorf("ConfigMap name %q", cm.Name)
		}
	}
}
