package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLint runs the whole lint on one arbitrary file: loader errors,
// locating lines in arbitrary YAML and every check must yield findings
// with a line, never a panic.
func FuzzLint(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		findings, err := Run([]string{path}, Options{})
		if err != nil {
			t.Fatalf("a readable file is never unreadable: %v", err)
		}
		for _, fd := range findings {
			if fd.Line < 1 || fd.Severity == "" || strings.Contains(fd.Message, "\n") {
				t.Fatalf("malformed finding %+v", fd)
			}
		}
	})
}

func BenchmarkLint(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run([]string{"testdata/problems.yaml"}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
