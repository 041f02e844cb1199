// Package lint checks SLO files (obsd's format, Sloth, OpenSLO) for
// mistakes the loader accepts but a reviewer would not: objectives and
// periods out of the usual range, alert windows that cannot fire,
// selectors that can never match, page alerts without a runbook, SLIs
// built on cause metrics. It reports findings as "file:line: severity:
// message" for CI; loading errors are findings too.
package lint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Severity of a finding.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem at a file and line (1 when no better line is known).
type Finding struct {
	File     string
	Line     int
	Severity Severity
	Message  string
}

// String is the "file:line: severity: message" form.
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Severity, f.Message)
}

// Options change what is reported.
type Options struct {
	// AllowMissingRunbook accepts page alerts without a runbook URL.
	AllowMissingRunbook bool
	// Strict makes errors of the warnings about keys a format's own tool
	// ignores (Sloth, Pyrra) and about page alerts without a runbook.
	Strict bool
}

// UnreadableError is returned by Run when an input cannot be read at all
// (a missing file, a pattern matching nothing); the CLI exits 2 on it.
type UnreadableError struct{ Err error }

func (e *UnreadableError) Error() string { return e.Err.Error() }
func (e *UnreadableError) Unwrap() error { return e.Err }

// Run lints the files matched by the given paths or glob patterns
// together (names must be unique across them; OpenSLO references
// resolve across them) and returns the findings sorted by file and line.
func Run(patterns []string, opt Options) ([]Finding, error) {
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil || len(m) == 0 {
			return nil, &UnreadableError{fmt.Errorf("%s: no such file", p)}
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	locs := map[string]*locator{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &UnreadableError{fmt.Errorf("could not read %s: %w", f, err)}
		}
		locs[f] = newLocator(data)
	}
	l := &linter{opt: opt, locs: locs, files: files}
	slos, errs := formats.LoadPartial(files...)
	for _, err := range errs {
		sev := Error
		if spec.IsWarning(err) && !opt.Strict {
			sev = Warning
		}
		for _, e := range flatten(err) {
			l.loadError(e, sev)
		}
	}
	seen := map[string]*spec.SLO{}
	for _, s := range slos {
		if prev, ok := seen[s.Name]; ok {
			l.add(s, fieldName, Error, "'name' %q is already used in %s", s.Name, prev.Source)
			continue
		}
		seen[s.Name] = s
		l.check(s)
	}
	sort.SliceStable(l.out, func(i, j int) bool {
		a, b := l.out[i], l.out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Message < b.Message
	})
	return l.out, nil
}

// Write prints findings, one per line.
func Write(w io.Writer, findings []Finding) error {
	for _, f := range findings {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	return nil
}

// Failed reports whether findings should fail a CI run: any error, or any
// warning when warnings are errors.
func Failed(findings []Finding, werror bool) bool {
	for _, f := range findings {
		if f.Severity == Error || werror {
			return true
		}
	}
	return false
}

type linter struct {
	opt   Options
	locs  map[string]*locator
	files []string
	out   []Finding
}

func (l *linter) add(s *spec.SLO, f field, sev Severity, format string, args ...any) {
	line := 1
	if loc := l.locs[s.Source]; loc != nil {
		line = loc.line(s.Name, f)
	}
	msg := fmt.Sprintf("slo %q: ", s.Name) + fmt.Sprintf(format, args...)
	l.out = append(l.out, Finding{File: s.Source, Line: line, Severity: sev, Message: msg})
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

var (
	sloFieldRe = regexp.MustCompile(`^slo "((?:[^"\\]|\\.)*)": '([^']*)'`)
	docFieldRe = regexp.MustCompile(`^document ([0-9]+) \([^)]*\): '([^']*)'`)
	docRe      = regexp.MustCompile(`^document ([0-9]+)\b`)
	yamlLineRe = regexp.MustCompile(`line ([0-9]+)`)
)

// loadError turns one loader error into a finding at the best line: the
// field of the SLO or document it names, else a YAML line it quotes.
func (l *linter) loadError(err error, sev Severity) {
	msg := err.Error()
	var file string
	for _, f := range l.files {
		if strings.HasPrefix(msg, f+": ") && len(f) > len(file) {
			file = f
		}
	}
	if file == "" {
		l.out = append(l.out, Finding{File: "-", Line: 1, Severity: sev, Message: oneLine(msg)})
		return
	}
	rest := strings.TrimPrefix(msg, file+": ")
	line := 0
	loc := l.locs[file]
	if m := sloFieldRe.FindStringSubmatch(rest); m != nil {
		name, _ := strconv.Unquote(`"` + m[1] + `"`)
		line = loc.sloPath(name, m[2])
	} else if m := docFieldRe.FindStringSubmatch(rest); m != nil {
		n, _ := strconv.Atoi(m[1])
		line = loc.docPath(n-1, m[2])
	}
	if line == 0 {
		if m := yamlLineRe.FindStringSubmatch(rest); m != nil {
			line, _ = strconv.Atoi(m[1])
		} else if m := docRe.FindStringSubmatch(rest); m != nil {
			n, _ := strconv.Atoi(m[1])
			line = loc.docPath(n-1, "")
		}
	}
	if line <= 0 {
		line = 1
	}
	l.out = append(l.out, Finding{File: file, Line: line, Severity: sev, Message: oneLine(rest)})
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

var _ error = (*UnreadableError)(nil)

// IsUnreadable reports whether err means the input could not be read.
func IsUnreadable(err error) bool {
	var u *UnreadableError
	return errors.As(err, &u)
}
