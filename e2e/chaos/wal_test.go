package chaos

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// spanIDPattern is how the first span of the load's request starting at
// item first appears in a stored request: protobuf field 2 (span_id),
// length 8, the span id (item number + 1, big-endian).
func spanIDPattern(first int64) []byte {
	p := []byte{0x12, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(p[2:], uint64(first)+1)
	return p
}

// TestWALDamagedQueueFiles: with the backend down, 40 requests of 100
// spans are acknowledged into the wal_storage queue; obsd is killed, and
// its queue file is garbled in two stored requests and cut in the middle
// of the last one, as a crash with a failing disk could leave it. obsd
// must start, deliver every intact request once the backend is back, and
// count the three damaged places.
func TestWALDamagedQueueFiles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, options{WAL: true}))
	dumpOnFailure(t, o)
	s.Fail(codes.Unavailable)

	const requests, perRequest = 40, 100
	traces := load.New(dial(t, p.GRPC), load.Config{Signal: load.Traces, BatchSize: perRequest, Streams: 1, Batches: requests})
	traces.Run(ctx)
	if st := traces.Stats(); st.Acked != requests*perRequest {
		t.Fatalf("with the backend down obsd acknowledged %d of %d spans into its queue: %v", st.Acked, requests*perRequest, st.Errors)
	}
	o.Kill()

	files, err := filepath.Glob(filepath.Join(o.Dir, "queue", "*.wal"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no wal segment in %s: %v", filepath.Join(o.Dir, "queue"), err)
	}
	damaged := map[int64]bool{5: true, 20: true, requests - 1: true}
	find := func(req int64) (string, []byte, int) {
		var path string
		var data []byte
		at := -1
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			pat := spanIDPattern(req * perRequest)
			if i := bytes.Index(b, pat); i >= 0 {
				if at >= 0 || bytes.Contains(b[i+1:], pat) {
					t.Fatalf("request %d is stored more than once", req)
				}
				path, data, at = f, b, i
			}
		}
		if at < 0 {
			t.Fatalf("request %d not found in the queue files", req)
		}
		return path, data, at
	}
	for _, req := range []int64{5, 20} { // garble a byte of the stored request
		path, data, at := find(req)
		data[at+5] ^= 0xff
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path, _, at := find(requests - 1) // and cut the file inside the last one
	if err := os.Truncate(path, int64(at+5)); err != nil {
		t.Fatal(err)
	}

	s.Fail(codes.OK)
	o.Restart()
	intact := func(counts load.Counts) (missing int) {
		for seq := int64(0); seq < requests*perRequest; seq++ {
			if !damaged[seq/perRequest] && counts[seq] == 0 {
				missing++
			}
		}
		return missing
	}
	harness.Eventually(t, 60*time.Second, func() bool { return intact(load.CountSpans(s.Traces())) == 0 },
		"the intact requests were not all delivered after the restart")
	counts := load.CountSpans(s.Traces())
	delivered, lost := 0, 0
	for seq := int64(0); seq < requests*perRequest; seq++ {
		if counts[seq] > 0 {
			delivered++
		} else {
			lost++
		}
	}
	m := scrape(o)
	walLabels := map[string]string{"storage": "wal_storage/queue"}
	badChecksum := harness.Sum(m, "obsd_wal_corruptions_total", with(walLabels, "kind", "bad_checksum"))
	tornTail := harness.Sum(m, "obsd_wal_corruptions_total", with(walLabels, "kind", "torn_tail"))
	dropped := harness.Sum(m, "obsd_wal_dropped_records_total", walLabels)
	summary(t, "wal_damaged_files", "acked=%d delivered=%d lost=%d (3 damaged requests of %d spans) corruptions{bad_checksum=%.0f torn_tail=%.0f} dropped_records=%.0f",
		requests*perRequest, delivered, lost, perRequest, badChecksum, tornTail, dropped)
	if lost != len(damaged)*perRequest {
		t.Errorf("%d spans missing; only the %d spans of the damaged requests may be", lost, len(damaged)*perRequest)
	}
	if badChecksum != 2 || tornTail != 1 {
		t.Errorf("corruptions counted: bad_checksum %.0f (want 2), torn_tail %.0f (want 1)", badChecksum, tornTail)
	}
	if dropped < 3 {
		t.Errorf("dropped records %.0f, want at least the 3 damaged requests", dropped)
	}
	if n := strings.Count(o.Output(), "WAL storage found damage on start and repaired it"); n != 2 {
		// One line per segment and kind: the two garbled requests share one.
		t.Errorf("%d damage log lines, want 2 (bad_checksum and torn_tail of one segment)", n)
	}
}

// TestWALDiskFull: the queue's directory is a 16 MiB tmpfs and the backend
// is down. Once the disk is down to wal_storage's reserve, new data is
// refused with UNAVAILABLE and a RetryInfo (clients keep and resend it)
// while obsd keeps running; when the backend is back, the queue drains,
// space returns, data is accepted again, and every acknowledged span
// arrives.
func TestWALDiskFull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	queueDir := filepath.Join(dir, "queue")
	if err := os.Mkdir(queueDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", queueDir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs for the queue (the test needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { // after obsd stopped (cleanups run last first)
		if out, err := exec.Command("umount", queueDir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", queueDir, err, out)
		}
	})
	s := sink.NewOTLP(t)
	s.Fail(codes.Unavailable)
	p := newPorts(t)
	o := harness.StartInDir(t, dir, config(p, s, options{WAL: true,
		WALConfig: "    segment_size_mib: 1\n    reserved_disk_mib: 4\n    max_size_mib: 0\n"}))
	dumpOnFailure(t, o)

	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 4, Rate: 150})
	stop := runLoad(ctx, traces)
	defer stop()
	walLabels := map[string]string{"storage": "wal_storage/queue", "reason": "disk_reserve"}
	harness.Eventually(t, 90*time.Second, func() bool { return harness.Sum(scrape(o), "obsd_wal_refused_batches_total", walLabels) > 0 },
		"the disk never filled up to the reserve")

	// A client sending now is refused retryably.
	req := ptraceotlp.NewExportRequest()
	req.Traces().ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("probe")
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	_, err := ptraceotlp.NewGRPCClient(conn).Export(pctx, req)
	pcancel()
	st := status.Convert(err)
	var retry time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri.GetRetryDelay().AsDuration()
		}
	}
	if st.Code() != codes.Unavailable || retry < time.Second {
		t.Errorf("a request to a full disk got %v (retry delay %s), want UNAVAILABLE with a RetryInfo of at least 1s", err, retry)
	}
	refusedBefore := traces.Stats()
	ackedWhenFull := refusedBefore.Acked
	time.Sleep(3 * time.Second)
	if gained := traces.Stats().Acked - ackedWhenFull; gained > 20*100 {
		t.Errorf("%d more spans acknowledged while the disk was full: the refusal did not hold", gained)
	}
	if !o.Running() {
		t.Fatal("obsd exited on a full disk")
	}

	s.Fail(codes.OK)
	healed := traces.Stats().Acked
	harness.Eventually(t, 90*time.Second, func() bool { return traces.Stats().Acked >= healed+3000 },
		"data was not accepted again once the backend drained the queue")
	stop()
	rt, _ := waitDelivered(t, s, 90*time.Second, traces, nil)
	m := scrape(o)
	refused := harness.Sum(m, "obsd_wal_refused_batches_total", walLabels)
	summary(t, "wal_disk_full", "tmpfs=16MiB reserve=4MiB traces{%s} refused_batches=%.0f probe=%s retry_after=%s client_errors=%v",
		rt, refused, st.Code(), retry, traces.Stats().Errors)
	if rt.Lost != 0 {
		t.Errorf("acknowledged spans lost with a full disk: %d (first %v)", rt.Lost, rt.FirstLost)
	}
	if traces.Stats().Errors[codes.Unavailable.String()] == 0 {
		t.Errorf("the load's clients were never refused: %v", traces.Stats().Errors)
	}
}
