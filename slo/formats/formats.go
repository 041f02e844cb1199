// Package formats reads SLO files in any format obsd knows: it finds a
// file's format from its first document and hands it to that format's
// reader (slo/formats/obsd, slo/formats/sloth, slo/formats/pyrra,
// slo/formats/openslo), which validates it into the model of slo/spec.
//
// A format is recognised by its top-level "version" key (obsd/v1,
// prometheus/v1) or its "apiVersion" (sloth.slok.dev/v1,
// pyrra.dev/v1alpha1, openslo/...). A new format is one reader package
// with a Read(file, data) function and one case in detect.
//
// Some SLOs can only be exported as Prometheus rules (spec.PromQLRatio,
// e.g. Sloth's raw error ratio queries): Load, which feeds the engine,
// refuses them with the reason; LoadExport, which feeds `obsd slo rules`
// and `obsd slo convert`, returns them.
package formats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/obsd-dev/obsd/internal/yamllimit"
	"github.com/obsd-dev/obsd/slo/formats/internal/lenient"
	"github.com/obsd-dev/obsd/slo/formats/obsd"
	"github.com/obsd-dev/obsd/slo/formats/openslo"
	"github.com/obsd-dev/obsd/slo/formats/pyrra"
	"github.com/obsd-dev/obsd/slo/formats/sloth"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Load reads every file matched by the given paths or glob patterns, in
// sorted order, and returns all SLOs, for the engine. A pattern that
// matches nothing, an unreadable or oversized file, every validation
// problem and every SLO the engine cannot evaluate (spec.SLO.ExportOnly)
// are reported together; SLO names must be unique across all files.
// Warnings (keys a format's own tool ignores) do not fail it. OpenSLO
// files may reference documents (SLI, AlertPolicy, ...) of any other
// loaded OpenSLO file.
func Load(patterns ...string) ([]*spec.SLO, error) {
	slos, _, err := LoadExport(patterns...)
	if err != nil {
		return nil, err
	}
	var errList []error
	for _, s := range slos {
		if why := s.ExportOnly(); why != "" {
			errList = append(errList, fmt.Errorf("%s: slo %q: %s", s.Source, s.Name, why))
		}
	}
	if err := errors.Join(errList...); err != nil {
		return nil, err
	}
	return slos, nil
}

// LoadExport is Load for the tools that write rules or files (obsd slo
// rules, obsd slo convert): it also returns the export-only SLOs, and the
// warnings (*spec.Warning) apart from the error.
func LoadExport(patterns ...string) (slos []*spec.SLO, warnings []error, err error) {
	out, errList := LoadPartial(patterns...)
	var hard []error
	for _, e := range errList {
		if spec.IsWarning(e) {
			warnings = append(warnings, e)
			continue
		}
		hard = append(hard, e)
	}
	hard = append(hard, spec.CheckUnique(out))
	if err := errors.Join(hard...); err != nil {
		return nil, warnings, err
	}
	return out, warnings, nil
}

// LoadPartial is Load for tools that report rather than refuse (obsd slo
// lint): it returns the SLOs that are valid, export-only ones included,
// whatever happens to the others, and every problem, warnings
// (*spec.Warning) among them, without checking names across files.
func LoadPartial(patterns ...string) ([]*spec.SLO, []error) {
	var files []string
	var errList []error
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			errList = append(errList, fmt.Errorf("invalid pattern %q: %w", p, err))
			continue
		}
		if len(m) == 0 {
			errList = append(errList, fmt.Errorf("pattern %q matches no file", p))
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	var out []*spec.SLO
	osl := openslo.NewSet()
	for _, f := range files {
		data, err := readLimited(f)
		if err != nil {
			errList = append(errList, err)
			continue
		}
		if openslo.Is(data) {
			osl.Add(f, data)
			continue
		}
		read, err := detect(f, data) // readLimited checked the limits
		if err == nil {
			var slos []*spec.SLO
			var warns []error
			slos, warns, err = read(f, data)
			out = append(out, slos...)
			errList = append(errList, warns...)
		}
		if err != nil {
			errList = append(errList, err)
		}
	}
	slos, err := osl.Convert()
	if err != nil {
		errList = append(errList, err)
	}
	return append(out, slos...), errList
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("could not read slo file: %w", err)
	}
	defer f.Close()
	data, err := yamllimit.ReadAll(f, spec.MaxFileSize)
	switch {
	case errors.Is(err, yamllimit.ErrTooLarge):
		return nil, fmt.Errorf("%s: slo file is larger than %d bytes", path, spec.MaxFileSize)
	case err != nil:
		return nil, fmt.Errorf("could not read slo file %s: %w", path, err)
	}
	return data, spec.CheckLimits(path, data)
}

// Parse decodes and validates one file's content; file names it in
// errors, and OpenSLO references resolve within the file only. It
// returns export-only SLOs too (spec.SLO.ExportOnly) and drops warnings.
// obsd's own format and OpenSLO refuse unknown keys; Sloth and Pyrra
// files ignore them, as their tools do.
func Parse(file string, data []byte) ([]*spec.SLO, error) {
	slos, _, err := Read(file, data)
	return slos, err
}

// Read is Parse with the warnings (*spec.Warning).
func Read(file string, data []byte) ([]*spec.SLO, []error, error) {
	if err := spec.CheckLimits(file, data); err != nil {
		return nil, nil, err
	}
	read, err := detect(file, data)
	if err != nil {
		return nil, nil, err
	}
	return read(file, data)
}

// reader reads one file's SLOs, warnings and problems.
type reader func(file string, data []byte) ([]*spec.SLO, []error, error)

// noWarnings adapts a reader that has no warnings.
func noWarnings(parse func(file string, data []byte) ([]*spec.SLO, error)) reader {
	return func(file string, data []byte) ([]*spec.SLO, []error, error) {
		slos, err := parse(file, data)
		return slos, nil, err
	}
}

// detect returns the reader of a file's format, from its first document.
func detect(file string, data []byte) (reader, error) {
	if openslo.Is(data) {
		return noWarnings(openslo.Parse), nil
	}
	head, err := lenient.FirstHead(data) // keys in any case, as Sloth and Kubernetes read them
	if err != nil {
		return nil, fmt.Errorf("%s: invalid YAML: %w", file, err)
	}
	switch {
	case head.Version == obsd.Version:
		return noWarnings(obsd.Parse), nil
	case head.Version == sloth.Version, head.Version == "" && head.APIVersion == sloth.APIVersion:
		return sloth.Read, nil
	case head.Version == "" && head.APIVersion == pyrra.APIVersion:
		return pyrra.Read, nil
	}
	return nil, fmt.Errorf("%s: unknown SLO format: 'version' must be %q (obsd) or %q (Sloth), or 'apiVersion' %q (Sloth's CRD), %q (Pyrra) or %q (OpenSLO); got version %q apiVersion %q",
		file, obsd.Version, sloth.Version, sloth.APIVersion, pyrra.APIVersion, openslo.APIVersion, head.Version, head.APIVersion)
}
