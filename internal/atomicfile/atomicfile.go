// Package atomicfile is obsd's one atomic file write: a reader, or the
// file system after a crash, sees either the whole old content of a file
// or the whole new one, never a mix or a truncated file. The SLO snapshot,
// the alerting outbox and state, and the generated dashboards are all
// written through it.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix separates a target's name from the random suffix of its
// temporary file: "<name>.tmp-<random>".
const tempInfix = ".tmp-"

// Write replaces the file at path with data. It writes a temporary file in
// the same directory (so the rename cannot cross file systems), fsyncs
// it, gives it perm, renames it over path and fsyncs the directory, so
// that the rename itself survives a crash. On any error the temporary
// file is removed and path is left as it was (the directory fsync comes
// after the rename: when it fails, path already holds data but may not
// survive a crash). Errors name the step and the path that failed.
//
// A crash during Write can leave a temporary file behind; IsTemp
// recognises its name.
func Write(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("could not create a temporary file in %s: %w", dir, err)
	}
	tmp := f.Name()
	if err := fill(f, data, perm); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("could not close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("could not rename %s to %s: %w", tmp, path, err)
	}
	return syncDir(dir)
}

// fill writes data to f, sets its permissions and fsyncs it.
func fill(f *os.File, data []byte, perm fs.FileMode) error {
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("could not write %s: %w", f.Name(), err)
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("could not set the permissions of %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("could not fsync %s: %w", f.Name(), err)
	}
	return nil
}

// syncDir fsyncs a directory, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("could not open directory %s to fsync it: %w", dir, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("could not fsync directory %s: %w", dir, serr)
	}
	if cerr != nil {
		return fmt.Errorf("could not close directory %s: %w", dir, cerr)
	}
	return nil
}

// IsTemp reports whether name (a base name, as os.ReadDir lists it) is a
// temporary file Write creates; one found while nothing writes is left
// over from a crash and can be removed.
func IsTemp(name string) bool {
	i := strings.LastIndex(name, tempInfix)
	if i <= 0 || i+len(tempInfix) == len(name) {
		return false
	}
	for _, c := range name[i+len(tempInfix):] {
		if c < '0' || c > '9' { // os.CreateTemp's random part is decimal
			return false
		}
	}
	return true
}
