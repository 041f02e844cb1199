// Package deploy holds obsd's Kubernetes manifests and container image
// definition; its tests decode them strictly into the real API types.
package deploy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "regenerate deploy/kubernetes/20-configmap.yaml from config.example.yaml")

// manifests are the decoded objects of deploy/kubernetes, by kind.
type manifests struct {
	daemonSets   []appsv1.DaemonSet
	deployments  []appsv1.Deployment
	services     []corev1.Service
	configMaps   []corev1.ConfigMap
	pdbs         []policyv1.PodDisruptionBudget
	pvcs         []corev1.PersistentVolumeClaim
	clusterRoles []rbacv1.ClusterRole
	other        []string // kinds decoded but not inspected further
	objectCount  int
}

func TestConfigMapMatchesExampleConfig(t *testing.T) {
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	slos, err := os.ReadFile("../slo.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cm := corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "obsd-config", Namespace: "obsd", Labels: map[string]string{"app.kubernetes.io/name": "obsd"}},
		// Mounted at /etc/obsd: the config's default OBSD_SLO_FILES is
		// /etc/obsd/slos.yaml.
		Data: map[string]string{"config.yaml": string(example), "slos.yaml": string(slos)},
	}
	want, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	want = append([]byte("# Generated from config.example.yaml and slo.example.yaml by `go test ./deploy -update`; do not edit.\n"), want...)
	path := filepath.Join("kubernetes", "20-configmap.yaml")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with config.example.yaml or slo.example.yaml; run: go test ./deploy -update", path)
	}
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := loadManifests(t)
	if len(m.daemonSets) != 1 || len(m.services) != 1 || len(m.configMaps) != 1 {
		t.Fatalf("want 1 DaemonSet, 1 Service, 1 ConfigMap; got %d, %d, %d", len(m.daemonSets), len(m.services), len(m.configMaps))
	}
	for _, kind := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"} {
		if !slices.Contains(m.other, kind) {
			t.Errorf("no %s in deploy/kubernetes", kind)
		}
	}
}

func TestDaemonSetIsHardenedAndConsistentWithItsConfig(t *testing.T) {
	m := loadManifests(t)
	ds := m.daemonSets[0]
	pod := ds.Spec.Template.Spec
	c := pod.Containers[0]
	cfg := m.configMaps[0].Data["config.yaml"]

	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("pod must run as non-root")
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container root filesystem must be read-only")
	}
	if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Error("container must drop all capabilities")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container must not allow privilege escalation")
	}
	if !slices.ContainsFunc(pod.Tolerations, func(t corev1.Toleration) bool { return t.Operator == corev1.TolerationOpExists && t.Key == "" }) {
		t.Error("the DaemonSet must tolerate every taint to run on every node")
	}
	if pod.PriorityClassName == "" {
		t.Error("the DaemonSet needs a priority class")
	}
	if ds.Spec.UpdateStrategy.RollingUpdate == nil || ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable == nil {
		t.Error("the rolling update must set maxUnavailable")
	}

	// Env from the downward API.
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["K8S_NODE_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Error("K8S_NODE_NAME must come from spec.nodeName")
	}
	if e := env["K8S_POD_IP"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "status.podIP" {
		t.Error("K8S_POD_IP must come from status.podIP")
	}

	// The state directory is a hostPath mounted where the config keeps queues.
	var hostPath string
	for _, v := range pod.Volumes {
		if v.HostPath != nil && v.Name == "state" {
			hostPath = v.HostPath.Path
		}
	}
	if hostPath != "/var/lib/obsd" || env["OBSD_STORAGE_DIR"].Value != "/var/lib/obsd" {
		t.Errorf("queues must live on the hostPath /var/lib/obsd (hostPath %q, OBSD_STORAGE_DIR %q)", hostPath, env["OBSD_STORAGE_DIR"].Value)
	}

	// The memory limiter sits below the container's memory limit.
	limit := c.Resources.Limits[corev1.ResourceMemory]
	limiterMiB := configInt(t, cfg, `limit_mib:\s*(\d+)`)
	if limiter := resource.MustParse(fmt.Sprintf("%dMi", limiterMiB)); limiter.Cmp(limit) >= 0 || float64(limiter.Value()) > 0.85*float64(limit.Value()) {
		t.Errorf("memory_limiter limit_mib %d must be at most 85%% of the container limit %s", limiterMiB, limit.String())
	}

	// Probes point at the port the health_check extension opens.
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	healthPort := configInt(t, cfg, `health_check:\s*\n(?:[ \t]+\S[^\n]*\n)*?[ \t]+endpoint:\s*[^:\s]*:(\d+)`)
	for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("%s probe must be an HTTP GET on the health endpoint", name)
			continue
		}
		if got := ports[probe.HTTPGet.Port.String()]; int(got) != healthPort {
			t.Errorf("%s probe port %s = %d, but health_check listens on %d", name, probe.HTTPGet.Port.String(), got, healthPort)
		}
	}
	// Every port the container declares is one the config opens.
	for _, p := range c.Ports {
		if !strings.Contains(cfg, ":"+strconv.Itoa(int(p.ContainerPort))) {
			t.Errorf("container port %s (%d) is not opened by the config", p.Name, p.ContainerPort)
		}
	}

	// The Service keeps traffic on the node and targets declared ports.
	svc := m.services[0]
	if svc.Spec.InternalTrafficPolicy == nil || *svc.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyLocal {
		t.Error("the Service must set internalTrafficPolicy: Local")
	}
	for _, sp := range svc.Spec.Ports {
		if _, ok := ports[sp.TargetPort.String()]; !ok {
			t.Errorf("service port %s targets %s, which the container does not declare", sp.Name, sp.TargetPort.String())
		}
	}
}

func configInt(t *testing.T, cfg, pattern string) int {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(cfg)
	if m == nil {
		t.Fatalf("config has no match for %s", pattern)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	return loadManifestsDir(t, "kubernetes")
}

// loadManifestsDir strictly decodes every document of dir/*.yaml.
func loadManifestsDir(t *testing.T, dir string) manifests {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", dir, err)
	}
	var m manifests
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m.addStream(t, f, data)
	}
	return m
}

// addStream strictly decodes every document of a multi-document YAML stream.
func (m *manifests) addStream(t *testing.T, name string, data []byte) {
	t.Helper()
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		if err := m.add([]byte(doc)); err != nil {
			t.Errorf("%s document %d: %v", name, i+1, err)
		}
	}
}

func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	m.objectCount++
	strict := func(into any) error { return yaml.UnmarshalStrict(doc, into) }
	switch tm.Kind {
	case "DaemonSet":
		var o appsv1.DaemonSet
		if err := strict(&o); err != nil {
			return err
		}
		m.daemonSets = append(m.daemonSets, o)
	case "Service":
		var o corev1.Service
		if err := strict(&o); err != nil {
			return err
		}
		m.services = append(m.services, o)
	case "ConfigMap":
		var o corev1.ConfigMap
		if err := strict(&o); err != nil {
			return err
		}
		m.configMaps = append(m.configMaps, o)
	case "Deployment":
		var o appsv1.Deployment
		if err := strict(&o); err != nil {
			return err
		}
		m.deployments = append(m.deployments, o)
	case "PodDisruptionBudget":
		var o policyv1.PodDisruptionBudget
		if err := strict(&o); err != nil {
			return err
		}
		m.pdbs = append(m.pdbs, o)
	case "PersistentVolumeClaim":
		var o corev1.PersistentVolumeClaim
		if err := strict(&o); err != nil {
			return err
		}
		m.pvcs = append(m.pvcs, o)
	case "ClusterRole":
		var o rbacv1.ClusterRole
		if err := strict(&o); err != nil {
			return err
		}
		m.clusterRoles = append(m.clusterRoles, o)
		m.other = append(m.other, tm.Kind)
	case "Namespace":
		return m.strictOther(tm.Kind, strict, &corev1.Namespace{})
	case "ServiceAccount":
		return m.strictOther(tm.Kind, strict, &corev1.ServiceAccount{})
	case "ClusterRoleBinding":
		return m.strictOther(tm.Kind, strict, &rbacv1.ClusterRoleBinding{})
	default:
		return fmt.Errorf("unexpected kind %q: add it to the test", tm.Kind)
	}
	return nil
}

func (m *manifests) strictOther(kind string, strict func(any) error, into any) error {
	if err := strict(into); err != nil {
		return err
	}
	m.other = append(m.other, kind)
	return nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
