package deploy

import (
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
)

// fileLogConfig is the part of an agent config the container logs need.
type fileLogConfig struct {
	Receivers struct {
		FileLog *struct {
			Include         []string `yaml:"include"`
			Exclude         []string `yaml:"exclude"`
			StartAt         string   `yaml:"start_at"`
			Storage         string   `yaml:"storage"`
			IncludeFilePath bool     `yaml:"include_file_path"`
			RetryOnFailure  struct {
				Enabled        bool   `yaml:"enabled"`
				MaxElapsedTime string `yaml:"max_elapsed_time"`
			} `yaml:"retry_on_failure"`
			Operators []map[string]any `yaml:"operators"`
		} `yaml:"file_log"`
	} `yaml:"receivers"`
	Extensions map[string]struct {
		Directory string `yaml:"directory"`
	} `yaml:"extensions"`
	Service struct {
		Extensions []string `yaml:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

func parseFileLog(t *testing.T, cfg string) fileLogConfig {
	t.Helper()
	var c fileLogConfig
	if err := yaml.Unmarshal([]byte(cfg), &c); err != nil {
		t.Fatalf("decode config: %v", err)
	}
	return c
}

// envRef is ${env:NAME} or ${env:NAME:-default} in a config string.
var envRef = regexp.MustCompile(`\$\{env:([A-Za-z0-9_]+)(?::-([^}]*))?\}`)

// expandEnv resolves env references as the collector would with env.
func expandEnv(s string, env map[string]string) string {
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := env[m[1]]; ok {
			return v
		}
		return m[2]
	})
}

// podEnv is the container's environment as the kubelet would set it for
// a pod of daemonSet in namespace: literal values and the downward API's
// metadata.namespace.
func podEnv(c corev1.Container, namespace string) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env[e.Name] = namespace
		}
	}
	return env
}

func matchesAny(patterns []string, p string) bool {
	return slices.ContainsFunc(patterns, func(g string) bool {
		ok, err := path.Match(g, p)
		return err == nil && ok
	})
}

// checkContainerLogs checks an agent that reads the node's container logs:
// file_log on /var/log/pods with the container parser, checkpoints on the
// state hostPath, backpressure instead of drops, the logs pipeline; the
// pod mounts what it reads read-only at the node's paths, reads it as a
// non-root user through the group 0, and skips its own container.
func checkContainerLogs(t *testing.T, name string, pod corev1.PodSpec, cfg, namespace, daemonSet string) {
	t.Helper()
	c := parseFileLog(t, cfg)
	fl := c.Receivers.FileLog
	if fl == nil {
		t.Fatalf("%s: the config has no file_log receiver", name)
	}
	if !slices.Contains(c.Service.Pipelines["logs"].Receivers, "file_log") {
		t.Errorf("%s: file_log is not in the logs pipeline (with OTLP logs: k8smeta, correlation, slo, the persistent queue)", name)
	}
	if !slices.Contains(fl.Include, "/var/log/pods/*/*/*.log") || !fl.IncludeFilePath {
		t.Errorf("%s: file_log must read /var/log/pods/*/*/*.log with include_file_path (the container parser reads the pod from it): %v", name, fl.Include)
	}
	if !reflect.DeepEqual(fl.Operators, shippedOperators(t)) {
		t.Errorf("%s: file_log's operators must be those of receivers/filelog/testdata/container.yaml (a container parser per format, read concurrently in its tests), got %v", name, fl.Operators)
	}
	if fl.StartAt != "end" || fl.Storage == "" {
		t.Errorf("%s: file_log must checkpoint (storage) and start at the end only without checkpoints: start_at %q, storage %q", name, fl.StartAt, fl.Storage)
	}
	if !fl.RetryOnFailure.Enabled || fl.RetryOnFailure.MaxElapsedTime != "0s" {
		t.Errorf("%s: file_log must retry refused batches for ever (backpressure, no drop)", name)
	}
	if dir := c.Extensions[fl.Storage].Directory; !strings.HasPrefix(dir, "${env:OBSD_STORAGE_DIR:-/var/lib/obsd}/") {
		t.Errorf("%s: the checkpoints (%s) must live on the state hostPath, not in %q", name, fl.Storage, dir)
	}
	if !slices.Contains(c.Service.Extensions, fl.Storage) {
		t.Errorf("%s: the checkpoint storage %s is not started (service.extensions)", name, fl.Storage)
	}

	// Everything file_log reads is mounted read-only at the node's path.
	ctr := pod.Containers[0]
	hostPaths := map[string]string{}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	mounted := map[string]bool{}
	for _, vm := range ctr.VolumeMounts {
		if hp, ok := hostPaths[vm.Name]; ok && hp == vm.MountPath && vm.MountPath != "/var/lib/obsd" {
			if !vm.ReadOnly {
				t.Errorf("%s: %s must be mounted read-only", name, vm.MountPath)
			}
			mounted[vm.MountPath] = true
		}
	}
	for _, want := range []string{"/var/log/pods", "/var/lib/docker/containers"} {
		if !mounted[want] {
			t.Errorf("%s: %s is not mounted from the node at the same path", name, want)
		}
	}
	for _, inc := range fl.Include {
		if !strings.HasPrefix(inc, "/var/log/pods/") {
			t.Errorf("%s: file_log reads %s, which is not mounted", name, inc)
		}
	}

	// Least privilege: non-root, no capability, the group that owns the logs.
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || !slices.Contains(sc.SupplementalGroups, 0) {
		t.Errorf("%s: the pod must run as non-root with the supplementary group 0 (the logs are 0640 root:root)", name)
	}
	if cs := ctr.SecurityContext; cs == nil || cs.Capabilities == nil || len(cs.Capabilities.Add) != 0 {
		t.Errorf("%s: the obsd container needs no capability to read the logs", name)
	}

	// The agent skips its own container, and only that.
	env := podEnv(ctr, namespace)
	var exclude []string
	for _, e := range fl.Exclude {
		exclude = append(exclude, expandEnv(e, env))
	}
	for _, include := range fl.Include {
		if strings.Contains(include, "$") {
			t.Errorf("%s: include %q refers to the environment", name, include)
		}
	}
	own := "/var/log/pods/" + namespace + "_" + daemonSet + "-x7k2p_" + "0b5c2d7e-0000-4000-8000-000000000001/obsd/0.log"
	if !matchesAny(fl.Include, own) || !matchesAny(exclude, own) {
		t.Errorf("%s: the agent's own log %s must be excluded (exclude %v)", name, own, exclude)
	}
	for _, other := range []string{
		"/var/log/pods/" + namespace + "_payments-6f9c-x7k2p_0b5c2d7e-0000-4000-8000-000000000002/api/0.log",
		"/var/log/pods/shop_" + daemonSet + "-x7k2p_0b5c2d7e-0000-4000-8000-000000000003/obsd/0.log",
		"/var/log/pods/shop_cart-1_0b5c2d7e-0000-4000-8000-000000000004/cart/3.log.20260102-030405",
	} {
		if !matchesAny(fl.Include, other) || matchesAny(exclude, other) {
			t.Errorf("%s: %s must be read", name, other)
		}
	}
}

func TestDaemonSetReadsContainerLogs(t *testing.T) {
	m := loadManifests(t)
	ds := m.daemonSets[0]
	checkContainerLogs(t, "deploy/kubernetes", ds.Spec.Template.Spec, configMapNamed(t, m, "obsd-config").Data["config.yaml"], ds.Namespace, ds.Name)
}

func TestHelmLogsSwitch(t *testing.T) {
	t.Run("on by default for the DaemonSet", func(t *testing.T) {
		// Another release name and namespace than helmTemplate's, so that
		// the agent's own logs are found by what the chart renders.
		args := []string{"template", "node", chartDir, "--namespace", "telemetry"}
		out, err := helm(t, args...)
		if err != nil {
			t.Fatalf("helm %v: %v\n%s", args, err, out)
		}
		var r rendered
		r.addStream(t, "helm template", []byte(out))
		r.slos = map[string]string{}
		for _, cm := range r.configMaps {
			switch cm.Name {
			case "node-obsd-config":
				r.config = cm.Data["config.yaml"]
			case "node-obsd-slos":
				r.slos = cm.Data
			}
		}
		pod := r.pod(t)
		checkPod(t, "helm logs on", pod, r.config)
		validateObsdConfigFiles(t, r.config, r.slos)
		checkContainerLogs(t, "helm logs on", pod, r.config, "telemetry", r.daemonSets[0].Name)
		if r.daemonSets[0].Name != "node-obsd" {
			t.Errorf("DaemonSet %s: the test expects the chart's fullname node-obsd", r.daemonSets[0].Name)
		}
	})
	t.Run("off: no file_log, no checkpoints, no log mounts, no group 0", func(t *testing.T) {
		r := helmTemplate(t, "--set", "logs.enabled=false")
		pod := r.pod(t)
		checkPod(t, "helm logs off", pod, r.config)
		validateObsdConfigFiles(t, r.config, r.slos)
		c := parseFileLog(t, r.config)
		if c.Receivers.FileLog != nil || strings.Contains(r.config, "file_log") || strings.Contains(r.config, "checkpoints") {
			t.Error("logs.enabled=false must remove file_log and its checkpoint storage from the config")
		}
		for _, v := range pod.Volumes {
			if v.HostPath != nil && v.Name != "state" {
				t.Errorf("logs.enabled=false still mounts %s", v.HostPath.Path)
			}
		}
		if slices.Contains(pod.SecurityContext.SupplementalGroups, 0) {
			t.Error("logs.enabled=false must not add the group 0")
		}
	})
	t.Run("the forwarding agent reads the logs too", func(t *testing.T) {
		r := helmTemplate(t, "--set", "forwardToGateway.enabled=true")
		validateObsdConfigFiles(t, r.config, nil)
		checkContainerLogs(t, "helm forwarding agent", r.pod(t), r.config, "obsd", "obsd")
	})
	t.Run("without the Docker mount", func(t *testing.T) {
		r := helmTemplate(t, "--set", "logs.dockerContainersPath=")
		for _, v := range r.pod(t).Volumes {
			if v.HostPath != nil && strings.Contains(v.HostPath.Path, "docker") {
				t.Errorf("dockerContainersPath empty still mounts %s", v.HostPath.Path)
			}
		}
	})
	t.Run("a relative Docker path is refused before rendering", func(t *testing.T) {
		out, err := helm(t, "template", "obsd", chartDir, "--set", "logs.dockerContainersPath=var/lib/docker/containers")
		if err == nil || !strings.Contains(out, "/logs/dockerContainersPath") {
			t.Errorf("want a schema error on /logs/dockerContainersPath, got %v:\n%s", err, out)
		}
	})
	t.Run("the gateway reads no node logs", func(t *testing.T) {
		r := helmTemplate(t, "--set", "mode=deployment")
		pod := r.pod(t)
		if strings.Contains(r.config, "file_log") || slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == "varlogpods" }) {
			t.Error("the gateway must not read /var/log/pods")
		}
	})
}

// shippedOperators are the file_log operators of the receiver's shipped
// container setup, receivers/filelog/testdata/container.yaml, whose tests
// read Docker JSON and CRI files at once with them.
func shippedOperators(t *testing.T) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "receivers", "filelog", "testdata", "container.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Operators []map[string]any `yaml:"operators"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Operators
}
