package jsonscan

import "testing"

// accessLog is a typical JSON access log line.
const accessLog = `{"ts":"2026-01-01T00:00:00Z","level":"info","req":{"method":"GET","path":"/api/pay"},"status":503,"bytes":1234}`

// BenchmarkFind: one body field, as a log SLI reads it.
func BenchmarkFind(b *testing.B) {
	path := []string{"status"}
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := Find(accessLog, path, Strict); !found || err != nil {
			b.Fatal(found, err)
		}
	}
}

// BenchmarkScanStrictThreeKeys: three body fields of one record in one pass.
func BenchmarkScanStrictThreeKeys(b *testing.B) {
	f := NewFields([]Key{{Path: []string{"status"}}, {Path: []string{"req", "path"}}, {Path: []string{"level"}}}, 0)
	take := func(keys uint64, _ Value) uint64 { return keys }
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Scan(accessLog, Strict, take); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanLenientIDs: the correlation processor's id keys on a log
// body that carries a trace id.
func BenchmarkScanLenientIDs(b *testing.B) {
	f := NewFields(corrKeys, 4)
	body := `{"level":"info","msg":"request served","dur_ms":12.5,"trace":{"trace":"aa","span":"bb"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`
	take := func(keys uint64, _ Value) uint64 { return keys }
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Scan(body, Lenient, take); err != nil {
			b.Fatal(err)
		}
	}
}
