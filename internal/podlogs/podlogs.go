// Package podlogs writes container log files the way the kubelet and the
// container runtimes do, for tests and benchmarks: a tree shaped like
// /var/log/pods (<namespace>_<pod>_<uid>/<container>/<restart>.log), lines
// in CRI format (containerd, CRI-O, with P/F partial lines) or Docker JSON,
// and the two rotations (rename and reopen; copy and truncate).
package podlogs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Format is how a container's lines are written.
type Format int

const (
	// CRI is containerd's and CRI-O's format:
	// "<RFC3339Nano time> <stream> <P|F> <content>".
	CRI Format = iota
	// Docker is the json-file driver's format:
	// {"log":"<content>\n","stream":"stdout","time":"<RFC3339Nano>"}.
	Docker
)

// Container names one container's log directory under a root such as
// /var/log/pods.
type Container struct {
	Namespace, Pod, UID, Name string
	Restart                   int
}

// Dir is root/<namespace>_<pod>_<uid>/<container>.
func (c Container) Dir(root string) string {
	return filepath.Join(root, c.Namespace+"_"+c.Pod+"_"+c.UID, c.Name)
}

// Path is the current log file, root/.../<container>/<restart>.log.
func (c Container) Path(root string) string {
	return filepath.Join(c.Dir(root), strconv.Itoa(c.Restart)+".log")
}

// CRILine is one CRI log line with its newline; tag is "F" for a full line
// or the last chunk of one, "P" for a partial chunk.
func CRILine(ts time.Time, stream, tag, content string) string {
	return ts.UTC().Format(time.RFC3339Nano) + " " + stream + " " + tag + " " + content + "\n"
}

// DockerLine is one json-file line: content with its trailing newline, as
// dockerd writes a complete line.
func DockerLine(ts time.Time, stream, content string) string {
	b, err := json.Marshal(struct {
		Log    string `json:"log"`
		Stream string `json:"stream"`
		Time   string `json:"time"`
	}{content + "\n", stream, ts.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return string(b) + "\n"
}

// Line is one application line in format f, written as a single full line.
func Line(f Format, ts time.Time, content string) string {
	if f == Docker {
		return DockerLine(ts, "stdout", content)
	}
	return CRILine(ts, "stdout", "F", content)
}

// Partial splits content into CRI chunks of at most chunk bytes: every
// chunk but the last tagged P, the last F, as a runtime splits a long line.
func Partial(ts time.Time, content string, chunk int) string {
	var out string
	for len(content) > chunk {
		out += CRILine(ts, "stdout", "P", content[:chunk])
		content = content[chunk:]
	}
	return out + CRILine(ts, "stdout", "F", content)
}

// Writer appends lines to one container's current log file, and rotates it
// the ways runtimes and log rotators do. Its methods are safe for use by
// several goroutines; each Write is one write(2) on an O_APPEND file.
type Writer struct {
	mu   sync.Mutex
	path string
	f    *os.File
	rot  int
}

// NewWriter creates the container's directory and opens (creating) its
// current log file under root.
func NewWriter(root string, c Container) (*Writer, error) {
	if err := os.MkdirAll(c.Dir(root), 0o755); err != nil {
		return nil, err
	}
	w := &Writer{path: c.Path(root)}
	return w, w.open()
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	w.f = f
	return nil
}

// Path is the current log file.
func (w *Writer) Path() string { return w.path }

// Write appends s (one or more whole lines) in one write.
func (w *Writer) Write(s string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.f.WriteString(s)
	return err
}

// rotatedName is the kubelet's name for the n-th rotated file,
// <restart>.log.<YYYYMMDD-hhmmss> with a distinct time per rotation.
func (w *Writer) rotatedName() string {
	w.rot++
	ts := time.Date(2020, 1, 1, 0, 0, w.rot, 0, time.UTC)
	return w.path + "." + ts.Format("20060102-150405")
}

// RotateRename renames the current file to its rotated name and opens a
// new current file, as the kubelet and the runtime do (the runtime reopens
// after the rename). No write happens between the two.
func (w *Writer) RotateRename() (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	to := w.rotatedName()
	if err := os.Rename(w.path, to); err != nil {
		return "", err
	}
	if err := w.f.Close(); err != nil {
		return "", err
	}
	return to, w.open()
}

// RotateCopyTruncate copies the current file to its rotated name and
// truncates the current file in place, as logrotate's copytruncate does.
// The writer keeps its O_APPEND descriptor, so the next write lands at the
// start of the emptied file. No write happens between copy and truncate.
func (w *Writer) RotateCopyTruncate() (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	to := w.rotatedName()
	data, err := os.ReadFile(w.path)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(to, data, 0o640); err != nil {
		return "", err
	}
	return to, w.f.Truncate(0)
}

// Close closes the current file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// UID is a pod uid in the kubelet's form, derived from n.
func UID(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}
