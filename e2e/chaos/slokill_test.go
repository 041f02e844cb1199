package chaos

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// chaosSLOs count every server span and every log record of service
// chaos, the load generator's: a span is bad when it failed, a record when
// it is an error.
const chaosSLOs = `version: obsd/v1
slos:
  - name: chaos-spans
    service: chaos
    objective: 99
    period: 1h
    sli:
      spans:
        bad: {status_error: true, http_5xx: true}
    alerting: {runbook_url: https://runbooks.example/chaos}
  - name: chaos-logs
    service: chaos
    objective: 99
    period: 1h
    sli:
      logs:
        min_severity: error
    alerting: {runbook_url: https://runbooks.example/chaos}
`

var (
	spanSLO = map[string]string{"slo": "chaos-spans"}
	logSLO  = map[string]string{"slo": "chaos-logs"}
)

func writeSLOs(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(chaosSLOs), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestWALKill9SLOCountsEqualAccepted: spans and logs stream through obsd
// as shipped (the slo processor counting in line, its journal committed
// with the queues' puts on wal_storage, snapshots every 2s); obsd is
// killed with SIGKILL under load three times. After each restart, once the
// queues drained: no acknowledged item is lost, and each SLO's event count
// equals exactly the items obsd accepted: every acknowledged one, plus the
// ones it had taken when it was killed before the client heard back
// (delivered too, "accepted_unacked").
func TestWALKill9SLOCountsEqualAccepted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	writeSLOs(t, dir)
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, dir, config(p, s, options{WAL: true, WALConfig: "    fsync: never\n", SLO: &sloOptions{SnapshotInterval: "2s"}}))
	dumpOnFailure(t, o)
	conn := dial(t, p.GRPC)

	var traceGens, logGens []*load.Generator
	var spanOffset, logOffset int64
	var rounds []string
	for k := range 3 {
		traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 3, Rate: 60, Offset: spanOffset})
		logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: 100, Streams: 3, Rate: 60, Offset: logOffset})
		stop := runLoad(ctx, traces, logs)
		// 5s or more: snapshots (every 2s) and journal records both hold
		// part of what is killed.
		began := time.Now()
		harness.Eventually(t, 60*time.Second, func() bool {
			return time.Since(began) > 5*time.Second && traces.Stats().Acked >= 3000 && logs.Stats().Acked >= 3000
		}, "round %d: the load did not get 3000 spans and 3000 logs acknowledged", k+1)
		m := scrape(o)
		committed := harness.Sum(m, "obsd_slo_journal_records_total", map[string]string{"outcome": "committed"})
		alone := harness.Sum(m, "obsd_slo_journal_records_total", map[string]string{"outcome": "written"})
		if committed == 0 {
			t.Errorf("round %d: no journal record was committed with a queue put (%v written alone)", k+1, alone)
		}
		o.Kill()
		stop()
		o.Restart()
		traceGens, logGens = append(traceGens, traces), append(logGens, logs)
		spanOffset += int64(traces.Stats().Sent)
		logOffset += int64(logs.Stats().Sent)

		// The load is stopped: wait for the queues to drain, then compare.
		var spans, recs accepted
		var sloSpans, sloLogs, queued float64
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			spans, recs = acceptedItems(load.CountSpans(s.Traces()), traceGens), acceptedItems(load.CountLogs(s.Logs()), logGens)
			m := scrape(o)
			sloSpans, sloLogs = harness.Sum(m, "obsd_slo_events_total", spanSLO), harness.Sum(m, "obsd_slo_events_total", logSLO)
			queued = harness.Sum(m, "otelcol_exporter_queue_size", nil)
			if m != nil && queued == 0 && spans.lost == 0 && recs.lost == 0 &&
				sloSpans == float64(spans.unique) && sloLogs == float64(recs.unique) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d, 90s after the restart: spans %+v slo_events %v, logs %+v slo_events %v, queued %v; want no loss, an empty queue and slo_events = unique received",
					k+1, spans, sloSpans, recs, sloLogs, queued)
			}
		}
		if bad := harness.Sum(scrape(o), "obsd_slo_bad_events_total", spanSLO); bad != 0 {
			t.Errorf("round %d: %v bad span events, the load sends none", k+1, bad)
		}
		rounds = append(rounds, fmt.Sprintf("round%d{spans: acked=%d accepted_unacked=%d lost=%d dup=%d slo_events=%.0f; logs: acked=%d accepted_unacked=%d lost=%d dup=%d slo_events=%.0f; journal before the kill: committed_with_put=%.0f written_alone=%.0f}",
			k+1, spans.acked, spans.unacked, spans.lost, spans.dup, sloSpans, recs.acked, recs.unacked, recs.lost, recs.dup, sloLogs, committed, alone))
	}
	m := scrape(o)
	summary(t, "wal_kill9_slo", "kills=3 %s after the last restart: journal{committed=%.0f written=%.0f replayed=%.0f failed=%.0f dropped=%.0f}",
		strings.Join(rounds, " "),
		harness.Sum(m, "obsd_slo_journal_records_total", map[string]string{"outcome": "committed"}),
		harness.Sum(m, "obsd_slo_journal_records_total", map[string]string{"outcome": "written"}),
		harness.Sum(m, "obsd_slo_journal_records_total", map[string]string{"outcome": "replayed"}),
		harness.Sum(m, "obsd_slo_journal_records_total", map[string]string{"outcome": "failed"}),
		harness.Sum(m, "obsd_slo_journal_records_total", map[string]string{"outcome": "dropped"}))
}

// accepted sums what a signal's generators sent against what the sink
// received: unique is every item obsd accepted (all acknowledged ones when
// nothing is lost, plus those it took before a kill cut the answer off).
type accepted struct {
	acked, unacked, lost, dup, unique int
}

func acceptedItems(c load.Counts, gens []*load.Generator) accepted {
	var a accepted
	for _, g := range gens {
		r := g.Check(c)
		a.acked += r.Acked
		a.unacked += r.Unacked
		a.lost += r.Lost
		a.dup += r.Dup
		a.unique += r.Unique
	}
	return a
}

// TestSLOCountsSurviveKill9RightAfterTheAck is the new user: 100
// spans, 10 of them failing, acknowledged with 200 over OTLP/HTTP; obsd is
// killed with SIGKILL half a second later, long before a snapshot; after
// the restart the SLO's counts are there and exact. With the slo processor
// (its journal record committed with the queue's put) and with the
// connector as an exporter at a fan-out (its record written alone).
func TestSLOCountsSurviveKill9RightAfterTheAck(t *testing.T) {
	for name, slo := range map[string]*sloOptions{
		"slo processor":              {},
		"slo connector at a fan-out": {FanOut: true},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeSLOs(t, dir)
			s := sink.NewOTLP(t)
			p := newPorts(t)
			o := harness.StartInDir(t, dir, config(p, s, options{WAL: true, SLO: slo}))
			dumpOnFailure(t, o)

			body, err := ptraceotlp.NewExportRequestFromTraces(newUserSpans(100, 10)).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/traces", p.HTTP), "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST /v1/traces: %d, want 200", resp.StatusCode)
			}
			time.Sleep(500 * time.Millisecond)
			o.Kill()
			snap, _ := os.ReadFile(filepath.Join(dir, "slo-state", "slo-slo.snapshot.json"))
			if strings.Contains(string(snap), "chaos-spans") {
				t.Fatal("a snapshot already held the SLO: the test would not show the journal")
			}
			o.Restart()

			var events, bad float64
			harness.Eventually(t, 30*time.Second, func() bool {
				m := scrape(o)
				events, bad = harness.Sum(m, "obsd_slo_events_total", spanSLO), harness.Sum(m, "obsd_slo_bad_events_total", spanSLO)
				return events == 100 && bad == 10
			}, "after kill -9 and restart obsd_slo_events_total = %v and bad = %v, want 100 and 10", events, bad)
			harness.Eventually(t, 30*time.Second, func() bool { return s.SpanCount() >= 100 }, "the 100 spans never reached the backend")
			summary(t, "slo_kill9_new_user/"+strings.ReplaceAll(name, " ", "_"), "acked=100 (10 failing) killed_after=500ms events_after_restart=%.0f bad=%.0f delivered=%d",
				events, bad, s.SpanCount())
		})
	}
}

// newUserSpans is one request of n server spans of service chaos, the
// first failed of them with status Error and HTTP 500.
func newUserSpans(n, failed int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "chaos")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	end := time.Now()
	for i := range n {
		sp := spans.AppendEmpty()
		sp.SetName("GET /orders")
		sp.SetKind(ptrace.SpanKindServer)
		sp.SetTraceID(pcommon.TraceID{1, byte(i)})
		sp.SetSpanID(pcommon.SpanID{2, byte(i)})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-20 * time.Millisecond)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
		if i < failed {
			sp.Status().SetCode(ptrace.StatusCodeError)
			sp.Attributes().PutInt("http.response.status_code", 500)
		}
	}
	return td
}
