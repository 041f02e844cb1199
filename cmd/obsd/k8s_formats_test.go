package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/internal/k8smanifest"
)

// run executes the root command with args and returns stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	c := newRootCommand()
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&bytes.Buffer{})
	c.SetArgs(args)
	err := c.Execute()
	return out.String(), err
}

type objectMeta struct {
	Name, Namespace     string
	Labels, Annotations map[string]string
}

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string
	Metadata   objectMeta
	Spec       map[string]any
	Data       map[string]string
}

func decodeStream(t *testing.T, s string) []object {
	t.Helper()
	var objs []object
	dec := yaml.NewDecoder(strings.NewReader(s))
	for {
		var o object
		if err := dec.Decode(&o); err != nil {
			require.ErrorContains(t, err, "EOF")
			return objs
		}
		objs = append(objs, o)
	}
}

func groupsOf(t *testing.T, ruleFile string) any {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(ruleFile), &m))
	require.Contains(t, m, "groups")
	return m["groups"]
}

func TestRuleCommandsWritePrometheusRules(t *testing.T) {
	const slos = "../../slo/rules/testdata/slos.yaml"
	digest, err := k8smanifest.SLOFilesDigest(slos)
	require.NoError(t, err)
	tests := []struct {
		name     string
		plain    []string // the same command in its rule file format
		args     []string
		wantMeta object
	}{
		{"self rules with every metadata flag",
			[]string{"rules", "self"},
			[]string{"rules", "self", "--format", "prometheus-operator", "--name", "obsd-self", "--namespace", "monitoring",
				"--label", "release=kube-prometheus-stack", "--label", "team=sre"},
			object{Metadata: objectMeta{Name: "obsd-self", Namespace: "monitoring", Labels: map[string]string{"release": "kube-prometheus-stack", "team": "sre"}}}},
		{"self rules with the defaults and a moved runbook base",
			[]string{"rules", "self", "--runbook-base-url", "https://wiki.example/rb"},
			[]string{"rules", "self", "--runbook-base-url", "https://wiki.example/rb", "--format", "prometheus-operator"},
			object{Metadata: objectMeta{Name: "obsd-self-alerts"}}},
		{"SLO rules carry the SLO files' digest",
			[]string{"slo", "rules", "--slo", slos, "--alertname", "Burn"},
			[]string{"slo", "rules", "--slo", slos, "--alertname", "Burn", "--format", "prometheus-operator", "--namespace", "obsd", "--label", "release=kps"},
			object{Metadata: objectMeta{Name: "obsd-slo-rules", Namespace: "obsd", Labels: map[string]string{"release": "kps"},
				Annotations: map[string]string{k8smanifest.SLOFilesDigestAnnotation: digest}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, err := run(t, tt.plain...)
			require.NoError(t, err)
			out, err := run(t, tt.args...)
			require.NoError(t, err)
			objs := decodeStream(t, out)
			require.Len(t, objs, 1)
			o := objs[0]
			assert.Equal(t, "monitoring.coreos.com/v1", o.APIVersion)
			assert.Equal(t, "PrometheusRule", o.Kind)
			assert.Equal(t, tt.wantMeta.Metadata, o.Metadata)
			assert.Equal(t, groupsOf(t, plain), o.Spec["groups"], "spec.groups is what the rule file format writes")
		})
	}
}

func TestRuleCommandsRefuseMisusedFormatFlags(t *testing.T) {
	const slos = "../../slo/rules/testdata/slos.yaml"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--name without the prometheus-operator format", []string{"rules", "self", "--name", "x"}, "'--name' is for --format prometheus-operator only"},
		{"--namespace without the prometheus-operator format", []string{"rules", "self", "--namespace", "x"}, "'--namespace' is for --format prometheus-operator only"},
		{"--label on a Mimir rule file", []string{"slo", "rules", "--slo", slos, "--format", "mimir", "--label", "a=b"}, "'--label' is for --format prometheus-operator only"},
		{"an unknown self rules format", []string{"rules", "self", "--format", "operator"}, "'--format' must be prometheus or prometheus-operator"},
		{"an unknown SLO rules format names all three", []string{"slo", "rules", "--slo", slos, "--format", "x"}, `"prometheus", "mimir" or "prometheus-operator"`},
		{"an invalid object name", []string{"rules", "self", "--format", "prometheus-operator", "--name", "Obsd"}, `'--name' "Obsd" must be a DNS subdomain`},
		{"an invalid label", []string{"slo", "rules", "--slo", slos, "--format", "prometheus-operator", "--label", "release=a b"}, `'--label' release="a b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, tt.args...)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestDashboardsGenerateWritesConfigMaps(t *testing.T) {
	const slos = "../../dashboards/testdata/slos.yaml"
	dir := t.TempDir()
	_, err := run(t, "dashboards", "generate", "--slo", slos, "--out", dir)
	require.NoError(t, err)
	digest, err := k8smanifest.SLOFilesDigest(slos)
	require.NoError(t, err)

	tests := []struct {
		name            string
		args            []string
		wantPrefix      string
		wantNamespace   string
		wantLabels      map[string]string
		wantAnnotations map[string]string
	}{
		{"the defaults suit kube-prometheus-stack's sidecar", nil, "", "",
			map[string]string{"grafana_dashboard": "1"},
			map[string]string{"grafana_folder": "obsd", k8smanifest.SLOFilesDigestAnnotation: digest}},
		{"every flag set", []string{"--name-prefix", "team-a-", "--namespace", "monitoring", "--label", "dash=yes",
			"--folder-annotation", "k8s-sidecar-target-directory", "--folder", "/tmp/dashboards/obsd"}, "team-a-", "monitoring",
			map[string]string{"dash": "yes"},
			map[string]string{"k8s-sidecar-target-directory": "/tmp/dashboards/obsd", k8smanifest.SLOFilesDigestAnnotation: digest}},
		{"an empty folder leaves the annotation out", []string{"--folder", ""}, "", "",
			map[string]string{"grafana_dashboard": "1"},
			map[string]string{k8smanifest.SLOFilesDigestAnnotation: digest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, append([]string{"dashboards", "generate", "--slo", slos, "--format", "configmap"}, tt.args...)...)
			require.NoError(t, err)
			objs := decodeStream(t, out)
			files, err := filepath.Glob(filepath.Join(dir, "*.json"))
			require.NoError(t, err)
			require.Len(t, objs, len(files), "one ConfigMap per dashboard, no provisioning file")
			for _, o := range objs {
				assert.Equal(t, "ConfigMap", o.Kind)
				require.Len(t, o.Data, 1)
				for key, data := range o.Data {
					want, err := os.ReadFile(filepath.Join(dir, key))
					require.NoError(t, err, "the ConfigMap holds a dashboard the json format writes")
					assert.Equal(t, string(want), data, "%s is the same JSON as the json format", key)
					assert.Equal(t, tt.wantPrefix+strings.TrimSuffix(key, ".json"), o.Metadata.Name)
				}
				assert.Equal(t, tt.wantNamespace, o.Metadata.Namespace)
				assert.Equal(t, tt.wantLabels, o.Metadata.Labels)
				assert.Equal(t, tt.wantAnnotations, o.Metadata.Annotations)
			}
		})
	}
}

func TestDashboardsGenerateRefusesMixedFormats(t *testing.T) {
	const slos = "../../dashboards/testdata/slos.yaml"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"--out with configmap", []string{"--format", "configmap", "--out", t.TempDir()}, "are for --format json"},
		{"--grafana-url with configmap (its URLs would land in the YAML)", []string{"--format", "configmap", "--grafana-url", "https://g"}, "are for --format json"},
		{"an unknown format", []string{"--format", "yaml", "--out", t.TempDir()}, "'--format' must be json or configmap"},
		{"an empty folder annotation key", []string{"--format", "configmap", "--folder-annotation", ""}, `annotation key ""`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, append([]string{"dashboards", "generate", "--slo", slos}, tt.args...)...)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
