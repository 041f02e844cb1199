// Command lokiclient pushes log lines to a Loki push endpoint with the real
// github.com/grafana/loki-client-go (protobuf+snappy, or its JSON mode), so
// that obsd's e2e tests can check what arrives. It lives in its own module
// because loki-client-go's dependency graph (Prometheus v0.35, go-kit) must
// not enter obsd's go.mod.
//
// Every line is "<prefix> <i>", stamped start+i ms, with the given stream
// labels and, when -trace-id is set, structured metadata trace_id/span_id.
// It exits 0 once the client has flushed every batch (Stop), and prints a
// one-line JSON summary.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/grafana/loki-client-go/loki"
	"github.com/grafana/loki/pkg/push"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

type summary struct {
	Sent int `json:"sent"`
	// Acked and Dropped are loki-client-go's own counts
	// (promtail_sent_entries_total, promtail_dropped_entries_total).
	Acked   float64 `json:"acked"`
	Dropped float64 `json:"dropped"`
	Mode    string  `json:"mode"`
	Tenant  string  `json:"tenant"`
	FirstNs int64   `json:"first_ns"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:3100/loki/api/v1/push", "Loki push URL (loopback only in tests)")
	tenant := flag.String("tenant", "", "X-Scope-OrgID tenant (empty: none)")
	jsonMode := flag.Bool("json", false, "use loki-client-go's JSON encoding instead of protobuf+snappy")
	lines := flag.Int("lines", 10, "number of lines to push")
	labels := flag.String("labels", "service_name=e2e,level=info", "stream labels, k=v comma-separated")
	prefix := flag.String("prefix", "line", "line text prefix")
	startNs := flag.Int64("start-ns", 1_700_000_000_000_000_000, "timestamp of the first line, unix ns")
	traceID := flag.String("trace-id", "", "structured metadata trace_id for every line (empty: none)")
	spanID := flag.String("span-id", "", "structured metadata span_id for every line (empty: none)")
	flag.Parse()

	if err := run(*url, *tenant, *jsonMode, *lines, *labels, *prefix, *startNs, *traceID, *spanID); err != nil {
		fmt.Fprintln(os.Stderr, "lokiclient:", err)
		os.Exit(1)
	}
}

func run(url, tenant string, jsonMode bool, lines int, labels, prefix string, startNs int64, traceID, spanID string) error {
	cfg, err := loki.NewDefaultConfig(url)
	if err != nil {
		return fmt.Errorf("could not configure the client for %q: %w", url, err)
	}
	cfg.TenantID = tenant
	cfg.EncodeJson = jsonMode
	cfg.BatchWait = 100 * time.Millisecond
	cfg.BatchSize = 64 << 10
	cfg.BackoffConfig.MaxRetries = 5
	cfg.BackoffConfig.MinBackoff = 100 * time.Millisecond
	cfg.BackoffConfig.MaxBackoff = time.Second

	ls, err := parseLabels(labels)
	if err != nil {
		return err
	}
	var md push.LabelsAdapter
	if traceID != "" {
		md = append(md, push.LabelAdapter{Name: "trace_id", Value: traceID})
	}
	if spanID != "" {
		md = append(md, push.LabelAdapter{Name: "span_id", Value: spanID})
	}

	client, err := loki.New(cfg)
	if err != nil {
		return fmt.Errorf("could not create the loki client: %w", err)
	}
	start := time.Unix(0, startNs)
	for i := range lines {
		ts := start.Add(time.Duration(i) * time.Millisecond)
		line := fmt.Sprintf("%s %d", prefix, i)
		if err := client.HandleWithMetadata(ls.Clone(), ts, line, md); err != nil {
			client.Stop()
			return fmt.Errorf("line %d: %w", i, err)
		}
	}
	client.Stop() // flushes every pending batch
	mode := "protobuf"
	if jsonMode {
		mode = "json"
	}
	sum := summary{Sent: lines, Mode: mode, Tenant: tenant, FirstNs: startNs,
		Acked: counterSum("promtail_sent_entries_total"), Dropped: counterSum("promtail_dropped_entries_total")}
	if err := json.NewEncoder(os.Stdout).Encode(sum); err != nil {
		return err
	}
	if sum.Dropped > 0 {
		return fmt.Errorf("the client dropped %v of %d entries", sum.Dropped, lines)
	}
	return nil
}

// counterSum adds up every series of a counter in the default registry.
func counterSum(name string) float64 {
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return -1
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

func parseLabels(s string) (model.LabelSet, error) {
	ls := model.LabelSet{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("label %q is not k=v", kv)
		}
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls, nil
}
