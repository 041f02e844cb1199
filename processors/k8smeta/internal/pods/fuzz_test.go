package pods

import (
	"bytes"
	"net/netip"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must return an index or an
// error, never panic, and never index more pods than asked.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"kind":"PodList","items":[{"metadata":{"name":"a","namespace":"n","uid":"1"},"status":{"podIP":"10.0.0.1"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := Decode(bytes.NewReader(data), 4)
		if err != nil {
			return
		}
		if x.Len() > 4 {
			t.Fatalf("indexed %d pods, max 4", x.Len())
		}
		_ = x.ByIP(netip.MustParseAddr("10.0.0.1"))
	})
}
