// Package amtest runs the real Alertmanager (Debian's
// prometheus-alertmanager) on loopback for tests, with the repository's
// alerting/alertmanager.example.yml: its webhook receivers (on-call,
// ticket, game-day drills) pointed at the test's servers and its group
// waits shortened so notifications come in well under a second. It is imported by tests only.
package amtest

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary is the Alertmanager executable looked up on PATH. CI installs it,
// so its absence fails the test rather than skipping it.
const Binary = "prometheus-alertmanager"

// ExampleConfig is the path of alerting/alertmanager.example.yml, found from
// this source file so that it works from any package's test directory.
func ExampleConfig() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "alerting", "alertmanager.example.yml")
}

// Start runs Alertmanager on addr (host:port) with the example config, its
// on-call and ticket webhook URLs replaced by oncall and ticket, and returns
// its base URL once /-/ready answers 200. It is killed when the test ends;
// its log is printed when the test failed.
func Start(t testing.TB, addr, oncall, ticket string) string {
	t.Helper()
	return StartWith(t, addr, Receivers{Oncall: oncall, Ticket: ticket})
}

// Receivers are the webhook URLs the example config's receivers notify;
// an empty one keeps the example's URL.
type Receivers struct {
	Oncall, Ticket string
	// Gameday is the game-day drills' receiver (obsd gameday --listen).
	Gameday string
}

// StartWith is Start with every receiver's URL given.
func StartWith(t testing.TB, addr string, r Receivers) string {
	t.Helper()
	return Run(t, addr, r).URL
}

// Process is a running Alertmanager.
type Process struct {
	// URL is its base URL.
	URL  string
	stop func()
}

// Stop kills Alertmanager now (e.g. to see obsd's delivery fail); the
// test's cleanup does it otherwise.
func (p *Process) Stop() { p.stop() }

// Run is StartWith returning the process, to stop it during the test.
func Run(t testing.TB, addr string, r Receivers) *Process {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		t.Fatalf("%s comes from Debian's prometheus-alertmanager package (apt-get install -y prometheus-alertmanager): %v", Binary, err)
	}
	data, err := os.ReadFile(ExampleConfig())
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, p := range [][2]string{{"http://127.0.0.1:9101/oncall", r.Oncall}, {"http://127.0.0.1:9102/ticket", r.Ticket},
		{"http://127.0.0.1:9097/gameday", r.Gameday}} {
		if p[1] != "" {
			pairs = append(pairs, p[0], p[1])
		}
	}
	pairs = append(pairs, "group_wait: 10s", "group_wait: 200ms", "group_interval: 1m", "group_interval: 500ms")
	cfg := strings.NewReplacer(pairs...).Replace(string(data))
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	logs, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		_ = logs.Close()
		t.Fatalf("start alertmanager: %v", err)
	}
	var once sync.Once
	kill := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(func() {
		kill()
		_ = logs.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logs.Name())
			t.Logf("alertmanager log:\n%s", out)
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ready(base) {
			return &Process{URL: base, stop: kill}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager on %s did not become ready in 30s", addr)
		}
	}
}

func ready(base string) bool {
	resp, err := http.Get(base + "/-/ready")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
