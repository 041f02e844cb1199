package load

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Counts is how many times each item number was received.
type Counts map[int64]int

// CountSpans counts the numbered spans in tds (spans without SeqKey are
// ignored).
func CountSpans(tds []ptrace.Traces) Counts {
	c := Counts{}
	for _, td := range tds {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					c.add(sp.Attributes())
				}
			}
		}
	}
	return c
}

// CountLogs counts the numbered log records in lds.
func CountLogs(lds []plog.Logs) Counts {
	c := Counts{}
	for _, ld := range lds {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					c.add(lr.Attributes())
				}
			}
		}
	}
	return c
}

func (c Counts) add(attrs pcommon.Map) {
	if v, ok := attrs.Get(SeqKey); ok && v.Type() == pcommon.ValueTypeInt {
		c[v.Int()]++
	}
}

// Total is the number of items received, duplicates included.
func (c Counts) Total() int {
	n := 0
	for _, k := range c {
		n += k
	}
	return n
}

// Result compares a run with what the sink received, in items.
type Result struct {
	Sent, Acked, Refused int
	// Received counts every copy; Unique every number once.
	Received, Unique int
	// Lost is acknowledged but never received: the guarantee is Lost == 0.
	Lost int
	// Dup is Received - Unique.
	Dup int
	// Unacked is received but never acknowledged (in flight at a kill, or
	// answered after the client's timeout).
	Unacked int
	// FirstLost lists up to 10 lost numbers, to debug a failure.
	FirstLost []int64
}

// Check compares the run so far with the received counts; only this
// generator's numbers are looked at.
func (g *Generator) Check(c Counts) Result {
	st := g.Stats()
	r := Result{Sent: st.Sent, Acked: st.Acked, Refused: st.Refused}
	for seq := g.cfg.Offset; seq < g.cfg.Offset+int64(st.Sent); seq++ {
		n := c[seq]
		r.Received += n
		if n > 0 {
			r.Unique++
		}
		switch ack := g.Acked(seq); {
		case ack && n == 0:
			r.Lost++
			if len(r.FirstLost) < 10 {
				r.FirstLost = append(r.FirstLost, seq)
			}
		case !ack && n > 0:
			r.Unacked++
		}
	}
	r.Dup = r.Received - r.Unique
	return r
}

// DupRatio is Dup / Unique (0 when nothing was received).
func (r Result) DupRatio() float64 {
	if r.Unique == 0 {
		return 0
	}
	return float64(r.Dup) / float64(r.Unique)
}

// String is the figures on one line.
func (r Result) String() string {
	return fmt.Sprintf("sent=%d acked=%d refused=%d received=%d unique=%d lost=%d dup=%d dup_ratio=%.4f unacked_received=%d",
		r.Sent, r.Acked, r.Refused, r.Received, r.Unique, r.Lost, r.Dup, r.DupRatio(), r.Unacked)
}
