package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// obsdProc is one running obsd, pinned to a core.
type obsdProc struct {
	cmd       *exec.Cmd
	healthURL string
	pprofURL  string
	log       bytes.Buffer
}

// startObsd runs bin on config, pinned with taskset to core (when taskset
// exists) and with GOMAXPROCS=1, and waits until it is healthy.
func startObsd(bin, config string, core int, healthPort, pprofPort int) (*obsdProc, error) {
	args := []string{bin, "--config", config}
	if ts, err := exec.LookPath("taskset"); err == nil && core >= 0 {
		args = append([]string{ts, "-c", strconv.Itoa(core)}, args...)
	}
	p := &obsdProc{
		healthURL: fmt.Sprintf("http://127.0.0.1:%d/", healthPort),
		pprofURL:  fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", pprofPort),
	}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.healthURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("obsd did not become healthy in 60s; output:\n%s", p.log.String())
}

func (p *obsdProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// cpuSeconds is the user+system CPU time obsd has used so far.
func (p *obsdProc) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100, nil // USER_HZ is 100 on Linux
}

// memKiB reads VmRSS and VmHWM (peak RSS) in KiB.
func (p *obsdProc) memKiB() (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm, sc.Err()
}

// mallocs reads the Go runtime's cumulative allocation count and bytes
// from obsd's pprof heap endpoint (its MemStats trailer).
func (p *obsdProc) mallocs() (count, bytes int64, err error) {
	resp, err := http.Get(p.pprofURL + "heap?debug=1")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "# Mallocs = "); ok {
			count, _ = strconv.ParseInt(v, 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "# TotalAlloc = "); ok {
			bytes, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if count == 0 {
		return 0, 0, fmt.Errorf("no MemStats in %sheap?debug=1", p.pprofURL)
	}
	return count, bytes, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitDelivered waits until the sink has received want items of sig or
// the timeout passes, and returns what it has.
func waitDelivered(ctx context.Context, s *countingSink, sig signal, want int64, timeout time.Duration) int64 {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if s.count(sig) >= want {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s.count(sig)
}
