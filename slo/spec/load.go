package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	yaml "go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest SLO file Load reads.
const MaxFileSize = 4 << 20

// Load reads every file matched by the given paths or glob patterns, in
// sorted order, and returns all SLOs. A pattern that matches nothing, an
// unreadable or oversized file, and every validation problem are
// reported together; SLO names must be unique across all files. OpenSLO
// files may reference documents (SLI, AlertPolicy, ...) of any other
// loaded OpenSLO file.
func Load(patterns ...string) ([]*SLO, error) {
	out, errList := LoadPartial(patterns...)
	errList = append(errList, checkUnique(out))
	if err := errors.Join(errList...); err != nil {
		return nil, err
	}
	return out, nil
}

// LoadPartial is Load for tools that report rather than refuse (obsd slo
// lint): it returns the SLOs that are valid, whatever happens to the
// others, and every problem, without checking names across files.
func LoadPartial(patterns ...string) ([]*SLO, []error) {
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
	var out []*SLO
	osl := NewOpenSLOSet()
	for _, f := range files {
		data, err := readLimited(f)
		if err != nil {
			errList = append(errList, err)
			continue
		}
		if IsOpenSLO(data) {
			osl.Add(f, data)
			continue
		}
		slos, err := Parse(f, data)
		if err != nil {
			errList = append(errList, err)
		}
		out = append(out, slos...)
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
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("could not read slo file %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: slo file is larger than %d bytes", path, MaxFileSize)
	}
	return data, checkLimits(path, data)
}

func checkUnique(slos []*SLO) error {
	seen := map[string]string{}
	var errList []error
	for _, s := range slos {
		if prev, ok := seen[s.Name]; ok {
			errList = append(errList, fmt.Errorf("%s: slo %q: 'name' is already used in %s", s.Source, s.Name, prev))
			continue
		}
		seen[s.Name] = s.Source
	}
	return errors.Join(errList...)
}

// Parse decodes and validates one file's content; file names the source
// in errors. The format is chosen by the top-level "version" key
// ("obsd/v1" or "prometheus/v1"), or by "apiVersion: openslo/v1" for
// OpenSLO files (references only within the file). Unknown keys are errors.
func Parse(file string, data []byte) ([]*SLO, error) {
	if err := checkLimits(file, data); err != nil {
		return nil, err
	}
	var head struct {
		Version string `yaml:"version"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: invalid YAML: %w", file, err)
	}
	if IsOpenSLO(data) {
		return parseOpenSLO(file, data)
	}
	e := &errs{file: file}
	var out []*SLO
	switch head.Version {
	case VersionObsd:
		var f rawFile
		if err := decodeStrict(data, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, r := range f.SLOs {
			out = append(out, convertObsd(file, r, e))
		}
	case VersionSloth:
		var f slothFile
		if err := decodeStrict(data, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, r := range f.SLOs {
			out = append(out, convertSloth(file, f, r, e))
		}
	default:
		return nil, fmt.Errorf("%s: 'version' must be %q or %q, got %q", file, VersionObsd, VersionSloth, head.Version)
	}
	if len(out) == 0 {
		e.list = append(e.list, fmt.Errorf("%s: 'slos' must declare at least one slo", file))
	}
	if err := errors.Join(e.err(), checkUnique(out)); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid slo file: %w", err)
	}
	return nil
}
