package prometheusoperator

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	repoRoot = "../.."
	chartDir = "../helm/obsd"
	// exampleSLOs is the file the chart's default SLOs (files/slos.yaml) are
	// a copy of.
	exampleSLOs = "../../slo.example.yaml"
)

// binDir holds the obsd binary built for the tests, removed at exit.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	obsdBin   string
	buildErr  error
)

// obsd runs the obsd binary ($OBSD_BIN, else ./cmd/obsd of this
// repository built once) and returns its stdout.
func obsd(t *testing.T, args ...string) string {
	t.Helper()
	bin := os.Getenv("OBSD_BIN")
	if bin == "" {
		buildOnce.Do(func() {
			if binDir, buildErr = os.MkdirTemp("", "obsd-prometheusoperator-bin-"); buildErr != nil {
				return
			}
			obsdBin = filepath.Join(binDir, "obsd")
			cmd := exec.Command("go", "build", "-o", obsdBin, "./cmd/obsd")
			cmd.Dir = repoRoot
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build ./cmd/obsd: %w\n%s", err, out)
			}
		})
		if buildErr != nil {
			t.Fatal(buildErr)
		}
		bin = obsdBin
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("obsd %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// helmBinary finds helm on PATH or in $(go env GOPATH)/bin; CI installs it
// (.ci/run), so a missing helm fails the test.
func helmBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("helm not found on PATH or in $(go env GOPATH)/bin; install it with: " +
		"GOFLAGS=-mod=mod GOTOOLCHAIN=local go install helm.sh/helm/v3/cmd/helm@v3.19.0 (outside the repository)")
	return ""
}

// helm runs helm and returns its combined output and error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(helmBinary(t), args...).CombinedOutput()
	return string(out), err
}

func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/promtool"); err == nil {
		return "/usr/bin/promtool"
	}
	t.Fatal("promtool not found: apt-get install -y prometheus")
	return ""
}

// rendered is one `helm template` output, every document decoded strictly.
type rendered struct {
	serviceMonitors []monitoringv1.ServiceMonitor
	podMonitors     []monitoringv1.PodMonitor
	rules           map[string]monitoringv1.PrometheusRule // by name
	configMaps      map[string]corev1.ConfigMap            // by name
	services        []corev1.Service
	daemonSets      []appsv1.DaemonSet
	deployments     []appsv1.Deployment
}

// dashboards returns the dashboard ConfigMaps by data key (the dashboard
// file name), failing on a ConfigMap with more than one key.
func (r rendered) dashboards(t *testing.T) map[string]corev1.ConfigMap {
	t.Helper()
	out := map[string]corev1.ConfigMap{}
	for _, cm := range r.configMaps {
		if !strings.Contains(cm.Name, "-dashboard-") {
			continue
		}
		if len(cm.Data) != 1 {
			t.Errorf("ConfigMap %s holds %d keys, want one dashboard", cm.Name, len(cm.Data))
		}
		for k := range cm.Data {
			out[k] = cm
		}
	}
	return out
}

func (r rendered) podTemplate(t *testing.T) corev1.PodTemplateSpec {
	t.Helper()
	switch {
	case len(r.daemonSets) == 1 && len(r.deployments) == 0:
		return r.daemonSets[0].Spec.Template
	case len(r.deployments) == 1 && len(r.daemonSets) == 0:
		return r.deployments[0].Spec.Template
	}
	t.Fatalf("want one DaemonSet or Deployment, got %d and %d", len(r.daemonSets), len(r.deployments))
	return corev1.PodTemplateSpec{}
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// render runs `helm template obsd <chart> --namespace obsd <args>` and
// decodes every document strictly: the Prometheus Operator's kinds into its
// Go types, ConfigMaps, Services and workloads into k8s.io/api types. Other
// kinds are the main module's deploy tests' concern.
func render(t *testing.T, args ...string) rendered {
	t.Helper()
	args = append([]string{"template", "obsd", chartDir, "--namespace", "obsd"}, args...)
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %v: %v\n%s", args, err, out)
	}
	r := rendered{rules: map[string]monitoringv1.PrometheusRule{}, configMaps: map[string]corev1.ConfigMap{}}
	for i, doc := range docSep.Split(out, -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if tm.Kind == "" {
			continue
		}
		if err := r.add(tm, []byte(doc)); err != nil {
			t.Errorf("document %d (%s): %v\n%.2000s", i, tm.Kind, err, doc)
		}
	}
	return r
}

func (r *rendered) add(tm metav1.TypeMeta, doc []byte) error {
	strict := func(into any) error { return yaml.UnmarshalStrict(doc, into) }
	if strings.HasPrefix(tm.APIVersion, monitoringv1.SchemeGroupVersion.Group+"/") {
		switch {
		case tm.APIVersion != monitoringv1.SchemeGroupVersion.String():
			return fmt.Errorf("apiVersion %q, want %s", tm.APIVersion, monitoringv1.SchemeGroupVersion)
		case tm.Kind != monitoringv1.ServiceMonitorsKind && tm.Kind != monitoringv1.PodMonitorsKind && tm.Kind != monitoringv1.PrometheusRuleKind:
			return fmt.Errorf("unexpected kind %q: add it to the test", tm.Kind)
		}
	}
	switch tm.Kind {
	case monitoringv1.ServiceMonitorsKind:
		var o monitoringv1.ServiceMonitor
		if err := strict(&o); err != nil {
			return err
		}
		r.serviceMonitors = append(r.serviceMonitors, o)
	case monitoringv1.PodMonitorsKind:
		var o monitoringv1.PodMonitor
		if err := strict(&o); err != nil {
			return err
		}
		r.podMonitors = append(r.podMonitors, o)
	case monitoringv1.PrometheusRuleKind:
		var o monitoringv1.PrometheusRule
		if err := strict(&o); err != nil {
			return err
		}
		r.rules[o.Name] = o
	case "ConfigMap":
		var o corev1.ConfigMap
		if err := strict(&o); err != nil {
			return err
		}
		r.configMaps[o.Name] = o
	case "Service":
		var o corev1.Service
		if err := strict(&o); err != nil {
			return err
		}
		r.services = append(r.services, o)
	case "DaemonSet":
		var o appsv1.DaemonSet
		if err := strict(&o); err != nil {
			return err
		}
		r.daemonSets = append(r.daemonSets, o)
	case "Deployment":
		var o appsv1.Deployment
		if err := strict(&o); err != nil {
			return err
		}
		r.deployments = append(r.deployments, o)
	}
	return nil
}

// ruleGroups strictly decodes a Prometheus rule file (the rule file format
// of `obsd slo rules` and `obsd rules self`) into the operator's types.
func ruleGroups(t *testing.T, ruleFile string) []monitoringv1.RuleGroup {
	t.Helper()
	var f struct {
		Groups []monitoringv1.RuleGroup `json:"groups"`
	}
	if err := yaml.UnmarshalStrict([]byte(ruleFile), &f); err != nil {
		t.Fatalf("rule file: %v", err)
	}
	return f.Groups
}

// promtoolCheck writes groups as a rule file and runs `promtool check
// rules --lint-fatal` on it: a lint finding (duplicate rules) fails too.
func promtoolCheck(t *testing.T, name string, groups []monitoringv1.RuleGroup) {
	t.Helper()
	data, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".rules.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool(t), "check", "rules", "--lint-fatal", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Errorf("promtool check rules on %s: %v\n%s", name, err, out)
	}
}

// generatedDashboards runs `obsd dashboards generate` (the json format) on
// slos and returns the dashboards by file name, without the provisioning
// file.
func generatedDashboards(t *testing.T, slos string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	obsd(t, "dashboards", "generate", "--slo", slos, "--out", dir)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("obsd dashboards generate wrote no dashboard: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(data)
	}
	return out
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func selects(sel metav1.LabelSelector, labels map[string]string) bool {
	if len(sel.MatchLabels) == 0 || len(sel.MatchExpressions) != 0 {
		return false
	}
	for k, v := range sel.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}
