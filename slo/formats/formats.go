// Package formats reads SLO files in any format obsd knows: it finds a
// file's format from its first document and hands it to that format's
// reader (slo/formats/obsd, slo/formats/sloth, slo/formats/openslo),
// which validates it into the model of slo/spec.
//
// A format is recognised by its top-level "version" key (obsd/v1,
// prometheus/v1) or its "apiVersion" (openslo/...). A new format is one
// reader package with a Parse(file, data) function and one case in
// detect.
package formats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	yaml "go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/internal/yamllimit"
	"github.com/obsd-dev/obsd/slo/formats/obsd"
	"github.com/obsd-dev/obsd/slo/formats/openslo"
	"github.com/obsd-dev/obsd/slo/formats/sloth"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Load reads every file matched by the given paths or glob patterns, in
// sorted order, and returns all SLOs. A pattern that matches nothing, an
// unreadable or oversized file, and every validation problem are
// reported together; SLO names must be unique across all files. OpenSLO
// files may reference documents (SLI, AlertPolicy, ...) of any other
// loaded OpenSLO file.
func Load(patterns ...string) ([]*spec.SLO, error) {
	out, errList := LoadPartial(patterns...)
	errList = append(errList, spec.CheckUnique(out))
	if err := errors.Join(errList...); err != nil {
		return nil, err
	}
	return out, nil
}

// LoadPartial is Load for tools that report rather than refuse (obsd slo
// lint): it returns the SLOs that are valid, whatever happens to the
// others, and every problem, without checking names across files.
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
		parse, err := detect(f, data) // readLimited checked the limits
		if err == nil {
			var slos []*spec.SLO
			slos, err = parse(f, data)
			out = append(out, slos...)
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

// Parse decodes and validates one file's content; file names the source
// in errors. The format is chosen by the top-level "version" key
// ("obsd/v1" or "prometheus/v1"), or by "apiVersion: openslo/v1" for
// OpenSLO files (references only within the file). Unknown keys are errors.
func Parse(file string, data []byte) ([]*spec.SLO, error) {
	if err := spec.CheckLimits(file, data); err != nil {
		return nil, err
	}
	parse, err := detect(file, data)
	if err != nil {
		return nil, err
	}
	return parse(file, data)
}

// detect returns the reader of a file's format.
func detect(file string, data []byte) (func(file string, data []byte) ([]*spec.SLO, error), error) {
	var head struct {
		Version string `yaml:"version"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: invalid YAML: %w", file, err)
	}
	if openslo.Is(data) {
		return openslo.Parse, nil
	}
	switch head.Version {
	case obsd.Version:
		return obsd.Parse, nil
	case sloth.Version:
		return sloth.Parse, nil
	}
	return nil, fmt.Errorf("%s: 'version' must be %q or %q, got %q", file, obsd.Version, sloth.Version, head.Version)
}
