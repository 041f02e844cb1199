package podlogs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var ts = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

func TestLines(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"a CRI line is time, stream, tag and content", CRILine(ts, "stderr", "F", "boom"),
			"2026-01-02T03:04:05.123456789Z stderr F boom\n"},
		{"a long line is cut in P chunks and ends with an F chunk", Partial(ts, "abcdefgh", 3),
			"2026-01-02T03:04:05.123456789Z stdout P abc\n" +
				"2026-01-02T03:04:05.123456789Z stdout P def\n" +
				"2026-01-02T03:04:05.123456789Z stdout F gh\n"},
		{"a line that fits is one F chunk", Partial(ts, "abc", 3), "2026-01-02T03:04:05.123456789Z stdout F abc\n"},
		{"a Docker line is one JSON object per line, log ending in a newline", DockerLine(ts, "stdout", `say "hi"`),
			`{"log":"say \"hi\"\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %q\nwant %q", tt.got, tt.want)
			}
		})
	}
	var d struct{ Log, Stream, Time string }
	if err := json.Unmarshal([]byte(Line(Docker, ts, "x")), &d); err != nil || d.Log != "x\n" {
		t.Errorf("Docker line does not decode: %v %+v", err, d)
	}
}

func TestContainerPaths(t *testing.T) {
	c := Container{Namespace: "shop", Pod: "cart-1", UID: UID(7), Name: "cart", Restart: 3}
	want := "/var/log/pods/shop_cart-1_00000007-0000-4000-8000-000000000007/cart/3.log"
	if got := c.Path("/var/log/pods"); got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRotations(t *testing.T) {
	root := t.TempDir()
	w, err := NewWriter(root, Container{Namespace: "ns", Pod: "p", UID: UID(1), Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Write("one\n"))
	renamed, err := w.RotateRename()
	must(err)
	must(w.Write("two\n"))
	if read(t, renamed) != "one\n" || read(t, w.Path()) != "two\n" {
		t.Errorf("rename: rotated %q, current %q", read(t, renamed), read(t, w.Path()))
	}
	if !strings.HasPrefix(filepath.Base(renamed), "0.log.20200101-0000") {
		t.Errorf("rotated name %s is not the kubelet's", renamed)
	}
	copied, err := w.RotateCopyTruncate()
	must(err)
	must(w.Write("three\n"))
	if read(t, copied) != "two\n" || read(t, w.Path()) != "three\n" {
		t.Errorf("copytruncate: copy %q, current %q", read(t, copied), read(t, w.Path()))
	}
	if copied == renamed {
		t.Error("two rotations got the same name")
	}
}
