package slo

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/slo/spec"
)

func BenchmarkRecordEvent(b *testing.B) {
	e, _ := newTestEngine(b, testSLO("a", 0.999))
	in := e.Instance(0, HashSeed, nil, t0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.AddEvents(in, t0.Add(time.Duration(i%60000)*time.Millisecond), 1, float64(i&1))
	}
}

func BenchmarkRecordCumulative(b *testing.B) {
	e, _ := newTestEngine(b, testSLO("a", 0.999))
	in := e.Instance(0, HashSeed, nil, t0)
	const nSeries = 1000
	hashes := make([]uint64, nSeries)
	for i := range hashes {
		hashes[i] = HashString(HashSeed, fmt.Sprintf("series-%d", i))
		e.AddCumulative(in, hashes[i], t0, t0, 0, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := i/nSeries + 1
		e.AddCumulative(in, hashes[i%nSeries], t0, t0.Add(time.Duration(n)*time.Millisecond), float64(n*10), float64(n))
	}
}

func BenchmarkHashString(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		HashString(HashString(HashSeed, "service.name=checkout"), "http.route=/api/v1/pay")
	}
}

// BenchmarkEvaluate10k evaluates 10,000 instances that each receive
// events every minute; it reports the heap held per instance.
func BenchmarkEvaluate10k(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e, _ := newTestEngine(b, testSLO("a", 0.999))
	const n = 10000
	ins := make([]*Instance, n)
	for i := range ins {
		ins[i] = e.Instance(0, uint64(i), nil, t0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		now = now.Add(30 * time.Second)
		for _, in := range ins {
			e.AddEvents(in, now, 100, 1)
		}
		b.StartTimer()
		e.Evaluate(context.Background(), now, func(*Status) {})
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/instance")
}

// BenchmarkEncodeSnapshot encodes 100 instances that saw events every
// minute for 30 days; it reports the snapshot bytes per instance.
func BenchmarkEncodeSnapshot(b *testing.B) {
	e, _ := newTestEngine(b, testSLO("a", 0.999))
	const n = 100
	for i := 0; i < n; i++ {
		in := e.Instance(0, uint64(i), nil, t0)
		for m := 0; m < 30*24*60; m += 1 {
			e.AddEvents(in, minute(m), 1000+float64(m%7), float64(m%3))
		}
	}
	e.Evaluate(context.Background(), minute(30*24*60), nil)
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		data, _, _, err := e.encodeSnapshot(t0, false)
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size)/n, "bytes/instance")
}

// BenchmarkRecordEventCalendarTimeslices records events of an SLO with a
// calendar month (Europe/Berlin) counted in 5m time slices: the calendar
// check and the slice verdicts must not allocate either.
func BenchmarkRecordEventCalendarTimeslices(b *testing.B) {
	s := timesliceSLO(spec.Timeslices, 0.99)
	s.Calendar = &spec.CalendarPeriod{Unit: spec.CalendarMonth, Location: mustZone(b, "Europe/Berlin")}
	e, _ := newTestEngine(b, s)
	in := e.Instance(0, HashSeed, nil, t0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.AddEvents(in, t0.Add(time.Duration(i%60000)*time.Millisecond), 1, float64(i&1))
	}
}

// BenchmarkEvaluateCalendarTimeslices1k evaluates 1,000 instances of a
// calendar month SLO in 5m time slices, one minute apart, so every fifth
// evaluation judges a slice per instance.
func BenchmarkEvaluateCalendarTimeslices1k(b *testing.B) {
	s := timesliceSLO(spec.Timeslices, 0.99)
	s.Calendar = &spec.CalendarPeriod{Unit: spec.CalendarMonth, Location: mustZone(b, "Europe/Berlin")}
	e, _ := newTestEngine(b, s)
	const n = 1000
	ins := make([]*Instance, n)
	for i := range ins {
		ins[i] = e.Instance(0, uint64(i), nil, t0)
	}
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		now = now.Add(time.Minute)
		for _, in := range ins {
			e.AddEvents(in, now, 100, float64(i%7))
		}
		b.StartTimer()
		e.Evaluate(context.Background(), now, func(*Status) {})
	}
}
