package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// binDir holds the obsd binary built for `obsd validate`, removed at exit.
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

// obsdBinary is $OBSD_BIN when set, else ./cmd/obsd built once.
func obsdBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("OBSD_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "obsd-deploy-bin-")
		if buildErr != nil {
			return
		}
		obsdBin = filepath.Join(binDir, "obsd")
		cmd := exec.Command("go", "build", "-o", obsdBin, "./cmd/obsd")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/obsd: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return obsdBin
}

// validateObsdConfig runs `obsd validate` on cfg with its SLO file (the
// repository's slo.example.yaml when slos is empty) and a scratch state
// directory, as the pod's environment would give them.
func validateObsdConfig(t *testing.T, cfg, slos string) {
	t.Helper()
	files := map[string]string{}
	if slos != "" {
		files["slos.yaml"] = slos
	}
	validateObsdConfigFiles(t, cfg, files)
}

// validateObsdConfigFiles is validateObsdConfig with several SLO files,
// as the Helm chart mounts them (OBSD_SLO_FILES is a glob).
func validateObsdConfigFiles(t *testing.T, cfg string, slos map[string]string) {
	t.Helper()
	if out, err := obsdValidate(t, cfg, slos); err != nil {
		t.Fatalf("obsd validate: %v\n%s", err, out)
	}
}

// obsdValidate runs `obsd validate` on a config and its SLO files (none:
// slo.example.yaml) with the environment a pod gives it, plus env
// ("NAME=value").
func obsdValidate(t *testing.T, cfg string, slos map[string]string, env ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sloPath, err := filepath.Abs("../slo.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(slos) > 0 {
		sloDir := filepath.Join(dir, "slos")
		if err := os.Mkdir(sloDir, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, content := range slos {
			if err := os.WriteFile(filepath.Join(sloDir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		sloPath = filepath.Join(sloDir, "*.yaml")
	}
	cmd := exec.Command(obsdBinary(t), "validate", "--config", path)
	cmd.Env = append(os.Environ(), "OBSD_SLO_FILES="+sloPath, "OBSD_STORAGE_DIR="+filepath.Join(dir, "state"))
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// checkPod checks what every obsd pod must be: non-root, read-only root
// filesystem, no capabilities, probes on the port health_check opens,
// container ports the config opens, memory limiter under the memory limit.
func checkPod(t *testing.T, name string, pod corev1.PodSpec, cfg string) {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: want one container, got %d", name, len(pod.Containers))
	}
	c := pod.Containers[0]
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: pod must run as non-root", name)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: container root filesystem must be read-only", name)
	}
	if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: container must drop all capabilities", name)
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: container must not allow privilege escalation", name)
	}
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		t.Errorf("%s: no memory limit", name)
	} else {
		limiterMiB := configInt(t, cfg, `limit_mib:\s*(\d+)`)
		if limiter := resource.MustParse(fmt.Sprintf("%dMi", limiterMiB)); float64(limiter.Value()) > 0.85*float64(limit.Value()) {
			t.Errorf("%s: memory_limiter limit_mib %d must be at most 85%% of the container limit %s", name, limiterMiB, limit.String())
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
		if !strings.Contains(cfg, ":"+strconv.Itoa(int(p.ContainerPort))) && !strings.Contains(cfg, "port: "+strconv.Itoa(int(p.ContainerPort))) {
			t.Errorf("%s: container port %s (%d) is not opened by the config", name, p.Name, p.ContainerPort)
		}
	}
	healthPort := configInt(t, cfg, `health_check:\s*\n(?:[ \t]+\S[^\n]*\n)*?[ \t]+endpoint:\s*[^:\s]*:(\d+)`)
	for probeName, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("%s: %s probe must be an HTTP GET on the health endpoint", name, probeName)
			continue
		}
		port := probe.HTTPGet.Port
		got := port.IntVal
		if port.StrVal != "" {
			got = ports[port.StrVal]
		}
		if int(got) != healthPort {
			t.Errorf("%s: %s probe port %s = %d, but health_check listens on %d", name, probeName, port.String(), got, healthPort)
		}
	}
	// Every mounted volume exists.
	vols := map[string]bool{}
	for _, v := range pod.Volumes {
		vols[v.Name] = true
	}
	for _, vm := range c.VolumeMounts {
		if !vols[vm.Name] {
			t.Errorf("%s: volume mount %s has no volume", name, vm.Name)
		}
	}
}

// checkServiceTargets checks every Service port targets a declared port.
func checkServiceTargets(t *testing.T, svc corev1.Service, c corev1.Container) {
	t.Helper()
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[p.Name] = true
		ports[strconv.Itoa(int(p.ContainerPort))] = true
	}
	for _, sp := range svc.Spec.Ports {
		if !ports[sp.TargetPort.String()] {
			t.Errorf("service %s port %s targets %s, which the container does not declare", svc.Name, sp.Name, sp.TargetPort.String())
		}
	}
}

func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	return sel != nil && len(sel.MatchLabels) > 0 && len(sel.MatchExpressions) == 0 && selectsMap(sel.MatchLabels, labels)
}

func selectsMap(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
