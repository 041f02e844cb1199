package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

const (
	gatewayDir          = "kubernetes/gateway"
	gatewayConfigMap    = "kubernetes/gateway/00-configmap.yaml"
	agentForwardCfgMap  = "kubernetes/gateway/50-agent-configmap.yaml"
	gatewayServiceHost  = "obsd-gateway.obsd.svc:4317"
	agentForwardHeading = `obsd agent that forwards to the obsd gateway (deploy/kubernetes/gateway/).
Generated from config.example.yaml by ` + "`go test ./deploy -update`" + `; do not edit.
Differences: no slo connector or processor (the gateway evaluates the SLOs
on every agent's data) and the OTLP exporters point at the gateway:
  OBSD_GATEWAY_ENDPOINT   host:port of the gateway (obsd-gateway.obsd.svc:4317)
  OBSD_GATEWAY_INSECURE   plaintext inside the cluster (true); set false
                          and give the gateway a certificate for TLS
Scraped metrics still go straight to remote write: SLOs on scraped
metrics need the agent profile or a Prometheus/Mimir ruler (obsd slo rules).`
)

// TestGatewayConfigMapsMatchTheirSources checks the two generated
// ConfigMaps of the gateway profile: the gateway's config and SLO files,
// and the agents' forwarding config derived from config.example.yaml.
func TestGatewayConfigMapsMatchTheirSources(t *testing.T) {
	gateway := readFile(t, "../config.gateway.yaml")
	slos := readFile(t, "../slo.example.yaml")
	forward, err := agentForwardConfig(readFile(t, "../config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, gatewayConfigMap, configMapYAML(t, "obsd-gateway-config", "gateway",
		"config.gateway.yaml and slo.example.yaml", map[string]string{"config.yaml": gateway, "slos.yaml": slos}))
	checkGolden(t, agentForwardCfgMap, configMapYAML(t, "obsd-config", "agent",
		"config.example.yaml (without the slo connector, exporting to the gateway)", map[string]string{"config.yaml": forward}))
}

func TestAgentForwardConfig(t *testing.T) {
	out, err := agentForwardConfig(readFile(t, "../config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Connectors map[string]any `yaml:"connectors"`
		Processors map[string]any `yaml:"processors"`
		Exporters  map[string]any `yaml:"exporters"`
		Service    struct {
			Pipelines map[string]struct {
				Receivers  []string `yaml:"receivers"`
				Processors []string `yaml:"processors"`
				Exporters  []string `yaml:"exporters"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Connectors["slo"]; ok {
		t.Error("the forwarding agent must not run the slo connector")
	}
	if _, ok := cfg.Processors["slo"]; ok {
		t.Error("the forwarding agent must not run the slo processor")
	}
	for name, p := range cfg.Service.Pipelines {
		if slices.Contains(p.Exporters, "slo") || slices.Contains(p.Receivers, "slo") || slices.Contains(p.Processors, "slo") {
			t.Errorf("pipeline %s still uses slo", name)
		}
	}
	for _, name := range []string{"traces", "logs", "metrics"} {
		if _, ok := cfg.Service.Pipelines[name]; !ok {
			t.Errorf("pipeline %s is missing", name)
		}
	}
	for _, e := range []string{"otlp_grpc/traces", "otlp_grpc/logs", "otlp_grpc/metrics"} {
		if !strings.Contains(fmt.Sprint(cfg.Exporters[e]), gatewayServiceHost) {
			t.Errorf("exporter %s does not point at the gateway: %v", e, cfg.Exporters[e])
		}
	}
	if !strings.Contains(out, "k8smeta") {
		t.Error("the forwarding agent keeps the pod metadata enrichment")
	}
}

func TestGatewayManifestsDecodeStrictly(t *testing.T) {
	m := loadManifestsDir(t, gatewayDir)
	if len(m.deployments) != 1 || len(m.services) != 1 || len(m.configMaps) != 2 || len(m.pdbs) != 1 || len(m.pvcs) != 1 {
		t.Fatalf("want 1 Deployment, 1 Service, 2 ConfigMaps, 1 PodDisruptionBudget, 1 PersistentVolumeClaim; got %d, %d, %d, %d, %d",
			len(m.deployments), len(m.services), len(m.configMaps), len(m.pdbs), len(m.pvcs))
	}
}

func TestGatewayIsHardenedAndConsistentWithItsConfig(t *testing.T) {
	m := loadManifestsDir(t, gatewayDir)
	d := m.deployments[0]
	cfgMap := configMapNamed(t, m, "obsd-gateway-config")
	cfg := cfgMap.Data["config.yaml"]
	pod := d.Spec.Template.Spec
	checkPod(t, "gateway", pod, cfg)
	checkServiceTargets(t, m.services[0], pod.Containers[0])

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Error("one gateway replica per SLO shard: more would split each SLO's events")
	}
	if d.Spec.Strategy.Type != "Recreate" {
		t.Error("a ReadWriteOnce state volume needs the Recreate strategy")
	}
	if !selects(m.pdbs[0].Spec.Selector, d.Spec.Template.Labels) {
		t.Error("the PodDisruptionBudget does not select the gateway's pods")
	}
	if !selects(d.Spec.Selector, d.Spec.Template.Labels) || !selectsMap(m.services[0].Spec.Selector, d.Spec.Template.Labels) {
		t.Error("the Deployment's or the Service's selector does not match the pod labels")
	}
	var claim, cmName string
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
		if v.ConfigMap != nil {
			cmName = v.ConfigMap.Name
		}
	}
	if claim != m.pvcs[0].Name {
		t.Errorf("the state volume claims %q, the PVC is %q", claim, m.pvcs[0].Name)
	}
	if cmName != cfgMap.Name {
		t.Errorf("the config volume mounts %q, the gateway ConfigMap is %q", cmName, cfgMap.Name)
	}
	// The agents' generated config points at this Service.
	agentCfg := configMapNamed(t, m, "obsd-config").Data["config.yaml"]
	want := fmt.Sprintf("%s.%s.svc:%d", m.services[0].Name, m.services[0].Namespace, servicePort(m.services[0], "otlp-grpc"))
	if !strings.Contains(agentCfg, want) {
		t.Errorf("the agents' config does not point at the gateway Service %s", want)
	}
}

// TestConfigsValidate runs `obsd validate` on every obsd config deploy/
// ships: the agent's and the gateway's ConfigMaps, with their SLO files.
func TestConfigsValidate(t *testing.T) {
	agent := loadManifests(t)
	gw := loadManifestsDir(t, gatewayDir)
	cases := []struct {
		name string
		cm   corev1.ConfigMap
		slos string
	}{
		{"the agent ConfigMap", configMapNamed(t, agent, "obsd-config"), ""},
		{"the gateway ConfigMap", configMapNamed(t, gw, "obsd-gateway-config"), ""},
		{"the forwarding agent ConfigMap", configMapNamed(t, gw, "obsd-config"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			validateObsdConfig(t, tc.cm.Data["config.yaml"], tc.cm.Data["slos.yaml"])
		})
	}
}

// agentForwardConfig derives the forwarding agent's config from the agent
// profile: the slo connector, the slo processor and the connector's
// pipeline are removed, and the OTLP exporters point at the gateway.
// Comments are kept.
func agentForwardConfig(example string) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(example), &doc); err != nil {
		return "", err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return "", errors.New("config.example.yaml is not one YAML document")
	}
	root := doc.Content[0]
	root.HeadComment = ""
	doc.HeadComment = agentForwardHeading
	if processors := mapValue(root, "processors"); processors != nil {
		deleteKey(processors, "slo")
	}
	if connectors := mapValue(root, "connectors"); connectors != nil {
		deleteKey(connectors, "slo")
		if len(connectors.Content) == 0 {
			deleteKey(root, "connectors")
		}
	}
	pipelines := mapValue(mapValue(root, "service"), "pipelines")
	if pipelines == nil {
		return "", errors.New("config.example.yaml has no service.pipelines")
	}
	deleteKey(pipelines, "metrics/slo")
	for i := 1; i < len(pipelines.Content); i += 2 {
		for _, key := range []string{"receivers", "processors", "exporters"} {
			if list := mapValue(pipelines.Content[i], key); list != nil {
				list.Content = slices.DeleteFunc(list.Content, func(n *yaml.Node) bool { return n.Value == "slo" })
			}
		}
	}
	replacer := strings.NewReplacer(
		"${env:OBSD_OTLP_ENDPOINT:-otel-gateway.observability.svc:4317}", "${env:OBSD_GATEWAY_ENDPOINT:-"+gatewayServiceHost+"}",
		"${env:OBSD_OTLP_INSECURE:-false}", "${env:OBSD_GATEWAY_INSECURE:-true}",
	)
	replaced := 0
	walk(root, func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			if v := replacer.Replace(n.Value); v != n.Value {
				n.Value = v
				replaced++
			}
		}
	})
	if replaced < 6 {
		return "", fmt.Errorf("expected the 3 OTLP exporters' endpoint and tls.insecure in config.example.yaml, replaced %d values", replaced)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", err
	}
	return b.String(), enc.Close()
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

func walk(n *yaml.Node, f func(*yaml.Node)) {
	f(n)
	for _, c := range n.Content {
		walk(c, f)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// configMapYAML renders a generated ConfigMap of the obsd namespace.
func configMapYAML(t *testing.T, name, component, from string, data map[string]string) []byte {
	t.Helper()
	cm := corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "obsd", Labels: map[string]string{
			"app.kubernetes.io/name": "obsd", "app.kubernetes.io/component": component}},
		Data: data,
	}
	out, err := sigsyaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("# Generated from "+from+" by `go test ./deploy -update`; do not edit.\n"), out...)
}

// checkGolden compares path with want, or writes it under -update.
func checkGolden(t *testing.T, path string, want []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with its sources; run: go test ./deploy -update", path)
	}
}

func configMapNamed(t *testing.T, m manifests, name string) corev1.ConfigMap {
	t.Helper()
	for _, cm := range m.configMaps {
		if cm.Name == name {
			return cm
		}
	}
	t.Fatalf("no ConfigMap %s", name)
	return corev1.ConfigMap{}
}

func servicePort(svc corev1.Service, name string) int32 {
	for _, p := range svc.Spec.Ports {
		if p.Name == name {
			return p.Port
		}
	}
	return 0
}
