package formats

import (
	"bytes"
	"os"
	"testing"
)

// fuzzFormat fuzzes Parse within one format: every input is the body of a
// file whose first line fixes the version, so the fuzzer explores that
// format's decoder and validation rather than the version switch.
func fuzzFormat(f *testing.F, header string, seeds ...string) {
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// The seed's own version line is dropped: the header supplies it.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
		f.Add(data)
	}
	f.Add([]byte("slos: []\n"))
	f.Add([]byte("x: &a [1, 2]\ny: [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		data := append([]byte(header), body...)
		slos, err := Parse("fuzz.yaml", data)
		if err == nil && len(slos) == 0 {
			t.Fatal("no error and no slo")
		}
		for _, s := range slos {
			if !(s.Objective > 0 && s.Objective < 1) {
				t.Fatalf("accepted objective %v", s.Objective)
			}
			if s.Name == "" {
				t.Fatal("accepted an slo without a name")
			}
		}
	})
}

// FuzzParseObsd fuzzes obsd's own obsd/v1 format.
func FuzzParseObsd(f *testing.F) {
	fuzzFormat(f, "version: obsd/v1\n", "testdata/obsd.yaml")
}

// FuzzParseSloth fuzzes the Sloth prometheus/v1 format.
func FuzzParseSloth(f *testing.F) {
	fuzzFormat(f, "version: prometheus/v1\n", "testdata/sloth.yaml")
}
