package atomicfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name     string
		existing []byte // nil: no file before
		data     []byte
		perm     os.FileMode
	}{
		{"a new file is created with the given permissions", nil, []byte("first\n"), 0o600},
		{"an existing file is replaced whole", []byte("a much longer old content\n"), []byte("new\n"), 0o600},
		{"world-readable output keeps its permissions whatever the umask", nil, []byte("{}\n"), 0o644},
		{"empty data gives an empty file", []byte("old"), nil, 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tt.existing != nil {
				if err := os.WriteFile(path, tt.existing, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := Write(path, tt.data, tt.perm); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("content %q, want %q", got, tt.data)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tt.perm {
				t.Errorf("permissions %v, want %v", st.Mode().Perm(), tt.perm)
			}
			assertOnly(t, dir, "state.json")
		})
	}
}

func TestWriteErrorsNameTheStepAndPath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "state.json")
	err := Write(missing, []byte("x"), 0o600)
	if err == nil || !strings.Contains(err.Error(), "could not create a temporary file in "+filepath.Dir(missing)) {
		t.Fatalf("a missing directory: %v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the cause is kept for errors.Is: %v", err)
	}

	// A directory where the file should be: the rename is what fails, and
	// the temporary file does not stay behind.
	target := filepath.Join(dir, "taken")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = Write(target, []byte("x"), 0o600)
	if err == nil || !strings.Contains(err.Error(), "could not rename ") || !strings.Contains(err.Error(), " to "+target) {
		t.Fatalf("renaming over a directory: %v", err)
	}
	assertOnly(t, dir, "taken")
}

func TestConcurrentReadersSeeWholeVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	versions := [][]byte{bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 3), bytes.Repeat([]byte("c"), 200<<10)}
	if err := Write(path, versions[0], 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := Write(path, versions[i%len(versions)], 0o600); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 300 {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		whole := false
		for _, v := range versions {
			whole = whole || bytes.Equal(got, v)
		}
		if !whole {
			t.Fatalf("a reader saw %d bytes that are no written version", len(got))
		}
	}
	close(stop)
	wg.Wait()
}

func TestIsTemp(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, "00000000000000000001.batch"+tempInfix+"*")
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	tests := []struct {
		name string
		want bool
	}{
		{filepath.Base(f.Name()), true},
		{"snapshot.json.tmp-42", true},
		{"snapshot.json", false},
		{"snapshot.json.tmp-", false},
		{".tmp-42", false},
		{"notes.tmp-draft", false},
	}
	for _, tt := range tests {
		if got := IsTemp(tt.name); got != tt.want {
			t.Errorf("IsTemp(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// assertOnly fails unless dir holds exactly the named entries.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("directory holds %v, want %v (no temporary file left)", got, names)
	}
}
