// Package openslo reads OpenSLO v1 documents (apiVersion openslo/v1:
// SLO, SLI, Service, DataSource, AlertPolicy, AlertCondition,
// AlertNotificationTarget) into the model of slo/spec. A Set gathers the
// documents of several files so that an SLO may reference documents of
// any of them; every problem names the file, the document (index, kind,
// name) and the field path.
package openslo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	raw "github.com/obsd-dev/obsd/slo/formats/openslo/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

// APIVersion is the apiVersion of the OpenSLO documents obsd imports.
const APIVersion = "openslo/v1"

// OpenSLO kinds.
const (
	kindSLO         = "SLO"
	kindSLI         = "SLI"
	kindService     = "Service"
	kindDataSource  = "DataSource"
	kindPolicy      = "AlertPolicy"
	kindCondition   = "AlertCondition"
	kindTarget      = "AlertNotificationTarget"
	openSLOKindList = "SLO, SLI, Service, DataSource, AlertPolicy, AlertCondition, AlertNotificationTarget"
)

// Is reports whether a file's first YAML document declares an
// OpenSLO apiVersion (any "openslo/..." version; only v1 is accepted
// later, with an error naming the version otherwise).
func Is(data []byte) bool {
	var n yaml.Node
	if yaml.Unmarshal(data, &n) != nil || len(n.Content) == 0 {
		return false
	}
	first := n.Content[0]
	if first.Kind == yaml.SequenceNode { // a file written as a list of documents
		if len(first.Content) == 0 {
			return false
		}
		first = first.Content[0]
	}
	var head struct {
		Version    string `yaml:"version"`
		APIVersion string `yaml:"apiVersion"`
	}
	if first.Decode(&head) != nil {
		return false
	}
	return head.Version == "" && strings.HasPrefix(head.APIVersion, "openslo/")
}

// oslDoc is one top-level OpenSLO document with where it came from.
type oslDoc struct {
	file  string
	index int // 1-based position in its file
	kind  string
	name  string
	value any // *raw.SLODoc, *raw.SLIDoc, *raw.PolicyTopDoc, ...
}

// where names the document in errors.
func (d *oslDoc) where() string {
	return fmt.Sprintf("%s: document %d (%s %q)", d.file, d.index, d.kind, d.name)
}

// Set gathers OpenSLO documents from one or more files, so that an
// SLO may reference an SLI, AlertPolicy, AlertCondition,
// AlertNotificationTarget or DataSource declared in any of them.
type Set struct {
	docs   []*oslDoc
	byKind map[string]map[string]*oslDoc
	errs   []error
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{byKind: map[string]map[string]*oslDoc{}}
}

// Add decodes every document of one file strictly (unknown keys are
// errors), after the size and alias-expansion limits of every SLO file.
// A file may hold several YAML documents, or a list of documents (as the
// OpenSLO Go SDK writes them, in YAML or JSON); documents are numbered in
// file order, list items included. Problems are kept and reported by
// Convert.
func (s *Set) Add(file string, data []byte) {
	if err := spec.CheckLimits(file, data); err != nil {
		s.errs = append(s.errs, err)
		return
	}
	nodes := yaml.NewDecoder(bytes.NewReader(data))
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	for i := 1; ; i++ {
		var n yaml.Node
		err := nodes.Decode(&n)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: document %d: invalid YAML: %w", file, i, err))
			return
		}
		if len(n.Content) == 0 || n.Content[0].Tag == "!!null" { // an empty document ("---" at the end)
			var skip yaml.Node
			_ = strict.Decode(&skip)
			i--
			continue
		}
		if n.Content[0].Kind == yaml.SequenceNode {
			var skip yaml.Node
			_ = strict.Decode(&skip)
			for _, item := range n.Content[0].Content {
				s.addList(file, i, item)
				i++
			}
			i--
			continue
		}
		var head struct {
			APIVersion string   `yaml:"apiVersion"`
			Kind       string   `yaml:"kind"`
			Metadata   raw.Meta `yaml:"metadata"`
		}
		_ = n.Decode(&head) // shape errors are reported by the strict decode below
		d := &oslDoc{file: file, index: i, kind: head.Kind, name: head.Metadata.Name}
		v := newOSLValue(head.Kind)
		if v == nil {
			var skip yaml.Node
			_ = strict.Decode(&skip)
			s.errs = append(s.errs, fmt.Errorf("%s: 'kind' must be one of %s, got %q", d.where(), openSLOKindList, head.Kind))
			continue
		}
		if head.APIVersion != APIVersion {
			var skip yaml.Node
			_ = strict.Decode(&skip)
			s.errs = append(s.errs, apiVersionError(d, head.APIVersion))
			continue
		}
		if err := strict.Decode(v); err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: %w", d.where(), err))
			continue
		}
		if !checkOSLName(d, "metadata.name", head.Metadata.Name, &s.errs) {
			continue
		}
		d.value = v
		s.add(d)
	}
}

// addList adds one item of a top-level list as document index: the item
// is re-encoded and decoded strictly, so a YAML line in its errors counts
// from the item.
func (s *Set) addList(file string, index int, item *yaml.Node) {
	var head struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Metadata   raw.Meta `yaml:"metadata"`
	}
	_ = item.Decode(&head)
	d := &oslDoc{file: file, index: index, kind: head.Kind, name: head.Metadata.Name}
	v := newOSLValue(head.Kind)
	if v == nil {
		s.errs = append(s.errs, fmt.Errorf("%s: 'kind' must be one of %s, got %q", d.where(), openSLOKindList, head.Kind))
		return
	}
	if head.APIVersion != APIVersion {
		s.errs = append(s.errs, apiVersionError(d, head.APIVersion))
		return
	}
	text, err := yaml.Marshal(item)
	if err == nil {
		dec := yaml.NewDecoder(bytes.NewReader(text))
		dec.KnownFields(true)
		err = dec.Decode(v)
	}
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("%s: %w", d.where(), err))
		return
	}
	if !checkOSLName(d, "metadata.name", head.Metadata.Name, &s.errs) {
		return
	}
	d.value = v
	s.add(d)
}

// apiVersionError refuses another OpenSLO version, with the way forward
// for v1alpha (the version Sloth reads).
func apiVersionError(d *oslDoc, got string) error {
	if got == "openslo/v1alpha" {
		return fmt.Errorf("%s: 'apiVersion' must be %q, got %q: obsd reads OpenSLO v1 only; rewrite the document as v1 "+
			"(spec.objectives[].ratioMetrics becomes spec.indicator.spec.ratioMetric, spec.timeWindows becomes spec.timeWindow)", d.where(), APIVersion, got)
	}
	return fmt.Errorf("%s: 'apiVersion' must be %q, got %q", d.where(), APIVersion, got)
}

func (s *Set) add(d *oslDoc) {
	m := s.byKind[d.kind]
	if m == nil {
		m = map[string]*oslDoc{}
		s.byKind[d.kind] = m
	}
	if prev, ok := m[d.name]; ok {
		s.errs = append(s.errs, fmt.Errorf("%s: 'metadata.name' is already used by document %d of %s", d.where(), prev.index, prev.file))
		return
	}
	m[d.name] = d
	s.docs = append(s.docs, d)
}

func newOSLValue(kind string) any {
	switch kind {
	case kindSLO:
		return &raw.SLODoc{}
	case kindSLI:
		return &raw.SLIDoc{}
	case kindService:
		return &raw.DescDoc{}
	case kindDataSource:
		return &raw.DataSourceDoc{}
	case kindPolicy:
		return &raw.PolicyTopDoc{}
	case kindCondition:
		return &raw.ConditionTopDoc{}
	case kindTarget:
		return &raw.TargetTopDoc{}
	}
	return nil
}

func checkOSLName(d *oslDoc, field, name string, errs *[]error) bool {
	switch {
	case name == "":
		*errs = append(*errs, fmt.Errorf("%s: '%s' is required", d.where(), field))
	case !spec.ValidName(name):
		*errs = append(*errs, fmt.Errorf("%s: '%s' must match %s", d.where(), field, spec.NameSyntax))
	default:
		return true
	}
	return false
}

// ref finds a referenced document of a kind.
func (s *Set) ref(kind, name string) *oslDoc { return s.byKind[kind][name] }

// Convert validates every SLO document against the documents it
// references and returns the SLOs that are valid, with every problem of
// every document (file, document index, kind, name and field path).
func (s *Set) Convert() ([]*spec.SLO, error) {
	errList := append([]error(nil), s.errs...)
	var out []*spec.SLO
	for _, d := range s.docs {
		c := &oslConv{set: s}
		switch d.kind {
		case kindSLO:
			slo := c.convertSLO(d, d.value.(*raw.SLODoc))
			if len(c.errs) == 0 {
				out = append(out, slo)
			}
		case kindSLI: // checked even when no SLO references it
			c.indicator(d, "spec", &d.value.(*raw.SLIDoc).Spec)
		}
		errList = append(errList, c.errs...)
	}
	return out, joinUnique(errList)
}

// joinUnique joins errors, dropping repeats (a document referenced by
// several SLOs reports each of its problems once).
func joinUnique(list []error) error {
	seen := map[string]bool{}
	var out []error
	for _, e := range list {
		if e == nil || seen[e.Error()] {
			continue
		}
		seen[e.Error()] = true
		out = append(out, e)
	}
	return errors.Join(out...)
}

// Parse reads one self-contained OpenSLO file (references resolve within
// the file only; a file without an SLO document is an error). Use a Set
// to resolve references across files.
func Parse(file string, data []byte) ([]*spec.SLO, error) {
	s := NewSet()
	s.Add(file, data)
	out, err := s.Convert()
	if err == nil && len(out) == 0 {
		return nil, fmt.Errorf("%s: declares no %s document of kind SLO", file, APIVersion)
	}
	return out, err
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
