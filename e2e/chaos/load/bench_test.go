package load

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The generator's per-request work besides gRPC: renumbering a reused
// batch of 100 items in place.
func BenchmarkFillTraces100(b *testing.B) {
	td := newTraces("chaos", 100)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		fillTraces(td, 0, int64(i)*100, now)
	}
}

func BenchmarkFillLogs100(b *testing.B) {
	ld := newLogs("chaos", 100)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		fillLogs(ld, int64(i)*100, now)
	}
}

// The accounting: counting 100,000 received spans in 1,000 batches.
func BenchmarkCountSpans100k(b *testing.B) {
	tds := make([]ptrace.Traces, 1000)
	for i := range tds {
		tds[i] = newTraces("chaos", 100)
		fillTraces(tds[i], 0, int64(i)*100, time.Now())
	}
	b.ReportAllocs()
	for b.Loop() {
		if c := CountSpans(tds); len(c) != 100000 {
			b.Fatalf("counted %d", len(c))
		}
	}
}

func TestFillNumbersEveryItem(t *testing.T) {
	td := newTraces("chaos", 3)
	fillTraces(td, 1, 30, time.Now())
	ld := newLogs("chaos", 3)
	fillLogs(ld, 30, time.Now())
	ct, cl := CountSpans([]ptrace.Traces{td}), CountLogs([]plog.Logs{ld})
	for _, seq := range []int64{30, 31, 32} {
		if ct[seq] != 1 || cl[seq] != 1 {
			t.Errorf("item %d: %d spans, %d logs, want 1 each", seq, ct[seq], cl[seq])
		}
	}
	if len(ct) != 3 || len(cl) != 3 {
		t.Errorf("counted %d spans, %d logs, want 3 each", len(ct), len(cl))
	}
}
