package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"net"
)

type gamedayFlags struct {
	configs       []string
	slo, service  string
	dryRun, start bool
	otlp, status  string
	headers       []string
	alertmanagers []string
	listen        string
	receiverWait  time.Duration
}

// newGamedayCommand is `obsd gameday`: rehearse an incident through the
// real path (docs/gameday.md).
func newGamedayCommand() *cobra.Command {
	var f gamedayFlags
	c := &cobra.Command{
		Use:   "gameday [--config URI]... [--slo NAME] [--service NAME] [--start] [--dry-run]",
		Short: "Rehearse an incident end to end without spending a real error budget",
		Long: "Sends synthetic failing spans, marked as a drill, to obsd's OTLP receiver and follows the page through the\n" +
			"slo connector, the alert, its route and every configured destination (Alertmanager, webhook) and back,\n" +
			"printing each hop with its time and verdict; then sends good spans and checks the page resolves.\n" +
			"The spans count only in a game-day instance of the SLO, whose alerts carry gameday=\"true\": the real\n" +
			"SLO's budget never moves. Exits non-zero, naming the hop, when the page does not arrive in time.\n" +
			"It reads obsd's config (the same --config; the embedded default without one) to know where to send,\n" +
			"where to look and how long each hop may take.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runGameday(ctx, cmd.OutOrStdout(), f)
		},
	}
	c.Flags().StringArrayVar(&f.configs, "config", nil, "obsd's config (as for obsd --config; repeat to merge)")
	c.Flags().StringVar(&f.slo, "slo", "", "the span SLO to drill on (default: the only one, else the discovered availability SLO)")
	c.Flags().StringVar(&f.service, "service", "", "the service of the drill's spans on a discovered SLO (default \""+defaultDrillService+"\")")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print what the drill would send and expect; send nothing")
	c.Flags().BoolVar(&f.start, "start", false, "start obsd on the config for the drill, and stop it after")
	c.Flags().StringVar(&f.otlp, "otlp", "", "OTLP/HTTP traces URL to send to (default: the config's OTLP receiver)")
	c.Flags().StringArrayVar(&f.headers, "otlp-header", nil, "header KEY=VALUE on every OTLP request (e.g. Authorization=Bearer ...)")
	c.Flags().StringVar(&f.status, "status-url", "", "obsd's status page base URL (default: the config's statuspage endpoint)")
	c.Flags().StringArrayVar(&f.alertmanagers, "alertmanager", nil, "Alertmanager base URL to check the page at (default: the routed destinations' URLs)")
	c.Flags().StringVar(&f.listen, "listen", "", "host:port of the drill's own webhook receiver, where Alertmanager's gameday route notifies")
	c.Flags().DurationVar(&f.receiverWait, "receiver-wait", 40*time.Second, "how long Alertmanager may take to notify --listen (its group_wait and more)")
	return c
}

func runGameday(ctx context.Context, out io.Writer, f gamedayFlags) error {
	headers := map[string]string{}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return fmt.Errorf("'--otlp-header' %q must be KEY=VALUE", h)
		}
		headers[k] = v
	}
	conf, err := resolveConfig(ctx, f.configs)
	if err != nil {
		return err
	}
	targets, err := readTargets(conf, strings.TrimSuffix(f.status, "/"))
	if err != nil {
		return err
	}
	t, s, err := pickSpanSLO(targets, f.slo)
	if err != nil {
		return err
	}
	if f.otlp != "" {
		t.otlpHTTP, t.otlpGRPC = f.otlp, ""
	}
	p, err := planDrill(t, s, f.service, newDrillID(time.Now()))
	if err != nil {
		return err
	}
	p.describe(out)
	if f.dryRun {
		fmt.Fprintln(out, "dry run: nothing sent")
		return nil
	}
	opts := drillOptions{alertmanagers: f.alertmanagers, receiverWait: f.receiverWait}
	if f.listen != "" {
		if opts.receiver, err = listenReceiver(f.listen); err != nil {
			return fmt.Errorf("'--listen': %w", err)
		}
		defer opts.receiver.close()
	}
	if f.start {
		stopObsd, err := startObsd(ctx, f.configs, t.statusURL, t.otlpAddr(), out)
		if err != nil {
			return err
		}
		defer func() {
			if serr := stopObsd(); serr != nil {
				fmt.Fprintf(out, "obsd did not stop cleanly: %v\n", serr)
			}
		}()
	}
	client := &http.Client{Timeout: 10 * time.Second}
	d := &drill{p: p, opts: opts, out: out, http: client,
		otlp: &otlpSender{url: t.otlpHTTP, grpcAddr: t.otlpGRPC, headers: headers, client: client}}
	return d.run(ctx)
}

// startObsd runs this binary on configs and waits until its status page
// answers and its OTLP receiver (otlpAddr, host:port) accepts connections:
// the collector starts extensions before receivers, so the status page
// alone says nothing about the receiver. The returned function stops it
// (SIGTERM).
func startObsd(ctx context.Context, configs []string, statusURL, otlpAddr string, out io.Writer) (func() error, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var args []string
	for _, c := range configs {
		args = append(args, "--config", c)
	}
	var logs syncWriter
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("could not start obsd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return errors.New("obsd did not exit within 30s of SIGTERM; killed")
		}
	}
	fmt.Fprintf(out, "started obsd (pid %d), waiting for its status page %s and its OTLP receiver %s\n", cmd.Process.Pid, statusURL, otlpAddr)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("obsd exited before its status page and OTLP receiver answered (%v):\n%s", err, logs.tail(4096))
		default:
		}
		if statusPageAnswers(statusURL) && accepts(otlpAddr) {
			return stop, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = stop()
			return nil, fmt.Errorf("obsd's status page %s or OTLP receiver %s did not answer within 60s:\n%s", statusURL, otlpAddr, logs.tail(4096))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// statusPageAnswers reports whether the status page's SLO list answers 200.
func statusPageAnswers(statusURL string) bool {
	resp, err := http.Get(statusURL + "/api/v1/slos")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// accepts reports whether addr (host:port) accepts a TCP connection.
func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// syncWriter keeps a started obsd's output for error messages.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// tail is the last n bytes written.
func (w *syncWriter) tail(n int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
