package yamllimit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// billionLaughs is the classic alias bomb: 9 levels of 9 aliases each,
// about 10^9 nodes once expanded, 700 bytes on disk.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	return b.String()
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr error
	}{
		{"a plain config passes", "receivers:\n  otlp:\n    protocols: {grpc: {}}\n", nil},
		{"a few ordinary anchors and merges pass", "x: &d {a: 1, b: 2}\ny:\n  <<: *d\n  c: 3\nz: *d\n", nil},
		{"the billion laughs is refused", billionLaughs(), ErrAliasBomb},
		{"a bomb in a later document of a stream is refused", "a: 1\n---\n" + billionLaughs(), ErrAliasBomb},
		{"an empty file passes", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.yaml), MaxExpandedNodes)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestCheckBoundsAtTheLimit(t *testing.T) {
	doc := "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n" // document(1) + map(1) + 2 keys + seq(4) + seq(1 + 3 × (alias + 4)) = 24
	if err := Check([]byte(doc), 24); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if err := Check([]byte(doc), 23); !errors.Is(err, ErrAliasBomb) {
		t.Fatalf("one over the limit: %v", err)
	}
}

func TestReadAll(t *testing.T) {
	if _, err := ReadAll(strings.NewReader(strings.Repeat("x", 10)), 10); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	if _, err := ReadAll(strings.NewReader(strings.Repeat("x", 11)), 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte over: %v", err)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte("a: &a [1]\nb: [*a, *a]\n"))
	f.Add([]byte(billionLaughs()))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = Check(data, 10_000)
	})
}
