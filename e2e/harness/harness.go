// Package harness builds the real obsd binary and runs it for end-to-end
// tests: on free loopback ports, with a generated config, waiting for health,
// and stopping it with SIGTERM while asserting a clean exit.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/internal/servertest"
)

// binaryPath is set by Main; tests of a package that uses the harness must
// call Main from TestMain.
var binaryPath string

// Main builds obsd once for the test binary, runs the tests and removes the
// build. Use it as: func TestMain(m *testing.M) { harness.Main(m) }.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "obsd-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(2)
	}
	binaryPath, err = Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Build compiles ./cmd/obsd of this repository into dir and returns the path.
func Build(dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "obsd")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/obsd")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/obsd: %w\n%s", err, stderr.String())
	}
	return out, nil
}

// Binary returns the obsd binary built by Main.
func Binary(t testing.TB) string {
	t.Helper()
	if binaryPath == "" {
		t.Fatal("harness.Main was not called from TestMain")
	}
	return binaryPath
}

// RepoRoot is the directory holding obsd's go.mod.
func RepoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the harness source file")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
}

// FreePort returns a loopback TCP port that was free a moment ago
// (servertest.FreePort, the one implementation).
func FreePort(t testing.TB) int {
	t.Helper()
	return servertest.FreePort(t)
}

// FreeUDPPort returns a loopback UDP port that was free a moment ago.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free udp port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// Obsd is one running obsd process.
type Obsd struct {
	t          testing.TB
	cmd        *exec.Cmd
	output     *syncBuffer
	exited     chan struct{}
	exitErr    error
	ConfigPath string
	// Dir is a temporary directory for this instance (queues, state).
	Dir string
	// HealthPort and MetricsPort are the ports the config was given for the
	// health_check extension and the self-metrics endpoint.
	HealthPort, MetricsPort int
	args                    []string
	runAs                   *syscall.Credential
}

// Config is what Start needs: the config YAML and the ports in it that the
// harness waits on. Use {{DIR}} in the YAML for the instance's directory.
type Config struct {
	YAML        string
	HealthPort  int
	MetricsPort int
	// ExtraArgs are appended after --config.
	ExtraArgs []string
	// RunAs, when set, runs obsd as that user and group (the test process
	// must be root); the instance directory is handed to it. Use it to
	// test what a non-root agent cannot read.
	RunAs *syscall.Credential
}

// Start writes cfg to a file, starts obsd on it and waits until the health
// endpoint answers 200. The process is stopped (SIGTERM) at test cleanup, and
// the test fails if it does not exit cleanly.
func Start(t testing.TB, cfg Config) *Obsd {
	t.Helper()
	dir := t.TempDir()
	return StartInDir(t, dir, cfg)
}

// StartInDir is Start with a caller-chosen instance directory, so that a
// restarted obsd finds the queues and state of the previous one.
func StartInDir(t testing.TB, dir string, cfg Config) *Obsd {
	t.Helper()
	path := filepath.Join(dir, "config.yaml")
	yaml := strings.ReplaceAll(cfg.YAML, "{{DIR}}", dir)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	o := &Obsd{t: t, ConfigPath: path, Dir: dir, HealthPort: cfg.HealthPort, MetricsPort: cfg.MetricsPort,
		args: append([]string{"--config", path}, cfg.ExtraArgs...), runAs: cfg.RunAs}
	if cfg.RunAs != nil {
		handOver(t, dir, cfg.RunAs)
	}
	o.start()
	t.Cleanup(func() {
		if o.Running() {
			o.Stop()
		}
	})
	return o
}

// StartDefault runs obsd with no flags at all, on its embedded default
// config (fixed loopback ports 4317, 4318, 13133 and 8888).
func StartDefault(t testing.TB) *Obsd {
	t.Helper()
	o := &Obsd{t: t, Dir: t.TempDir(), HealthPort: 13133, MetricsPort: 8888}
	o.start()
	t.Cleanup(func() {
		if o.Running() {
			o.Stop()
		}
	})
	return o
}

func (o *Obsd) start() {
	o.t.Helper()
	o.output = &syncBuffer{}
	o.exited = make(chan struct{})
	o.cmd = exec.Command(Binary(o.t), o.args...)
	if o.runAs != nil {
		o.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.runAs}
	}
	o.cmd.Stdout = o.output
	o.cmd.Stderr = o.output
	if err := o.cmd.Start(); err != nil {
		o.t.Fatalf("start obsd: %v", err)
	}
	go func() {
		o.exitErr = o.cmd.Wait()
		close(o.exited)
	}()
	if o.HealthPort != 0 {
		o.WaitHealthy(60 * time.Second)
	}
}

// WaitHealthy waits until the health endpoint answers 200.
func (o *Obsd) WaitHealthy(timeout time.Duration) {
	o.t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/", o.HealthPort)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-o.exited:
			o.t.Fatalf("obsd exited before becoming healthy: %v\n%s", o.exitErr, o.Output())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	o.t.Fatalf("obsd not healthy on %s after %s\n%s", url, timeout, o.Output())
}

// Running reports whether the process has not exited yet.
func (o *Obsd) Running() bool {
	select {
	case <-o.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and fails the test unless obsd exits with status 0
// within 30 seconds.
func (o *Obsd) Stop() {
	o.t.Helper()
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.exited:
	case <-time.After(30 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
		o.t.Errorf("obsd did not exit within 30s of SIGTERM\n%s", o.Output())
		return
	}
	if o.exitErr != nil {
		o.t.Errorf("obsd exited uncleanly after SIGTERM: %v\n%s", o.exitErr, o.Output())
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (o *Obsd) Kill() {
	_ = o.cmd.Process.Kill()
	<-o.exited
}

// PID is the operating system id of the current obsd process (it changes
// on Restart), e.g. to read /proc/PID/status.
func (o *Obsd) PID() int { return o.cmd.Process.Pid }

// Signal sends sig to the process (e.g. syscall.SIGHUP).
func (o *Obsd) Signal(sig os.Signal) error { return o.cmd.Process.Signal(sig) }

// Restart starts a new process on the same config and directory, after the
// previous one has exited (Kill or Stop first).
func (o *Obsd) Restart() {
	o.t.Helper()
	if o.Running() {
		o.t.Fatal("Restart called while obsd is still running")
	}
	o.start()
}

// Output is everything obsd wrote to stdout and stderr so far.
func (o *Obsd) Output() string { return o.output.String() }

// WaitOutput waits until obsd's output contains s.
func (o *Obsd) WaitOutput(s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(o.Output(), s) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// Run runs the obsd binary with args to completion (e.g. "validate") and
// returns its combined output and exit code.
func Run(t testing.TB, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exitErr):
		return string(out), exitErr.ExitCode()
	default:
		t.Fatalf("run obsd %v: %v", args, err)
		return "", -1
	}
}

// Eventually polls cond every 50ms until it is true or timeout passes, and
// fails the test with msg then.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after %s: "+msg, append([]any{timeout}, args...)...)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// handOver lets cred run the binary and own dir: the directories above
// both get o+x (t.TempDir and the build directory are 0700), dir and
// everything in it becomes cred's.
func handOver(t testing.TB, dir string, cred *syscall.Credential) {
	t.Helper()
	for _, d := range []string{filepath.Dir(Binary(t)), dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatalf("run as %d: %v", cred.Uid, err)
		}
	}
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		t.Fatalf("run as %d: %v", cred.Uid, err)
	}
}
