package deploy

import (
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestAgentRBACIsWhatK8smetaNeeds pins the agent's rights to what the
// k8smeta processor's API server source uses: list pods, nothing more.
func TestAgentRBACIsWhatK8smetaNeeds(t *testing.T) {
	m := loadManifests(t)
	if len(m.clusterRoles) != 1 {
		t.Fatalf("want one ClusterRole, got %d", len(m.clusterRoles))
	}
	rules := m.clusterRoles[0].Rules
	if len(rules) != 1 || !slices.Equal(rules[0].APIGroups, []string{""}) ||
		!slices.Equal(rules[0].Resources, []string{"pods"}) || !slices.Equal(rules[0].Verbs, []string{"list"}) {
		t.Errorf("the agent's ClusterRole must be exactly core pods list, got %+v", rules)
	}
	cfg := configMapNamed(t, m, "obsd-config").Data["config.yaml"]
	if !strings.Contains(cfg, "kind: apiserver") {
		t.Error("the agent config's k8smeta source is not the API server the RBAC is written for")
	}
}

// TestK8smetaRunsRightAfterTheMemoryLimiter checks every agent pipeline
// that receives from pods enriches right after memory_limiter, before the
// processors and connectors that read k8s.* and service.name.
func TestK8smetaRunsRightAfterTheMemoryLimiter(t *testing.T) {
	var cfg struct {
		Service struct {
			Pipelines map[string]struct {
				Receivers  []string `yaml:"receivers"`
				Processors []string `yaml:"processors"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "../config.example.yaml")), &cfg); err != nil {
		t.Fatal(err)
	}
	for name, p := range cfg.Service.Pipelines {
		if slices.Contains(p.Receivers, "slo") {
			continue // the SLO results come from obsd itself
		}
		if !slices.ContainsFunc(p.Receivers, func(r string) bool { return !strings.HasPrefix(r, "forward/") }) {
			continue // fed by a forward connector from a pipeline already checked
		}
		if len(p.Processors) < 2 || p.Processors[0] != "memory_limiter" || !strings.HasPrefix(p.Processors[1], "k8smeta") {
			t.Errorf("pipeline %s: processors %v, want memory_limiter then k8smeta", name, p.Processors)
		}
	}
}
