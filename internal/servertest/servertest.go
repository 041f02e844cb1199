// Package servertest runs a real server program (VictoriaLogs, Jaeger,
// Prometheus) as a child process for tests: it finds the binary (failing
// the test with the command that installs it), picks free loopback ports,
// waits for readiness, and stops and starts the server again on the same
// ports and data directory, for outage tests. It is imported by tests only.
package servertest

import (
	"bytes"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FindBinary returns the path of the program name: on PATH, else in
// $(go env GOPATH)/bin where `go install` puts it. A missing program fails
// the test with install, the command that provides it; it is never a skip.
func FindBinary(t testing.TB, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range filepath.SplitList(gopath()) {
		p := filepath.Join(dir, "bin", name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("%s is not on PATH nor in $(go env GOPATH)/bin; install it with:\n  %s\n(bash .ci/run does it)", name, install)
	return ""
}

func gopath() string {
	if p := os.Getenv("GOPATH"); p != "" {
		return p
	}
	return build.Default.GOPATH
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Spec describes a server process.
type Spec struct {
	// Name labels the process in errors and logs ("victoria-logs").
	Name string
	// Path is the binary, Args its arguments (fixed across restarts).
	Path string
	Args []string
	// Dir is the working directory; the log file goes there too.
	Dir string
	// ReadyURL answers 200 once the server takes requests.
	ReadyURL string
	// ReadyTimeout bounds the wait for ReadyURL (default 60s).
	ReadyTimeout time.Duration
}

// Process is a running (or stopped) server. Stop and Start may be called
// any number of times, in turn; the process is killed when the test ends
// and its log is printed when the test failed.
type Process struct {
	t    testing.TB
	spec Spec

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

// Start runs the server and waits until it is ready.
func Start(t testing.TB, spec Spec) *Process {
	t.Helper()
	if spec.ReadyTimeout == 0 {
		spec.ReadyTimeout = 60 * time.Second
	}
	logPath := filepath.Join(spec.Dir, spec.Name+".log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{t: t, spec: spec, log: log}
	t.Cleanup(func() {
		p.kill()
		_ = log.Close()
		if t.Failed() {
			t.Logf("%s log (last 8 KiB):\n%s", spec.Name, tail(logPath, 8<<10))
		}
	})
	p.Start()
	return p
}

// Start starts the server again after Stop, with the same arguments and
// data, and waits until it is ready.
func (p *Process) Start() {
	p.t.Helper()
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		p.t.Fatalf("%s: Start while it is running", p.spec.Name)
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Dir = p.spec.Dir
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		p.t.Fatalf("start %s: %v", p.spec.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	deadline := time.Now().Add(p.spec.ReadyTimeout)
	for {
		if ok(p.spec.ReadyURL) {
			return
		}
		select {
		case <-exited:
			p.t.Fatalf("%s exited before it was ready; log:\n%s", p.spec.Name, tail(p.log.Name(), 8<<10))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready at %s after %s; log:\n%s", p.spec.Name, p.spec.ReadyURL, p.spec.ReadyTimeout, tail(p.log.Name(), 8<<10))
		}
	}
}

// Stop sends SIGTERM and waits for the exit (SIGKILL after 30s), so the
// server flushes what it holds as it does on a clean shutdown.
func (p *Process) Stop() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		p.t.Fatalf("%s: Stop while it is not running", p.spec.Name)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

func (p *Process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.cmd = nil
	}
}

// Log is what the server wrote to stdout and stderr so far (all runs).
func (p *Process) Log() string { return tail(p.log.Name(), 1<<30) }

func ok(url string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
