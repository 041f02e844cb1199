// Package lenient decodes YAML the way Kubernetes-style tools (Sloth,
// Pyrra) do: YAML is turned into JSON and decoded with encoding/json, so
// keys match field names case-insensitively and unknown keys are ignored.
// Unlike those tools it reports every ignored key, with the field the
// author most likely meant, so that a reader can warn about it.
package lenient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/slo/spec"
)

// Ignored is one key the decoder ignored.
type Ignored struct {
	// Path is the JSON path of the map holding the key, e.g.
	// ["slos", "0", "alerting"]; array indices are decimal strings.
	Path []string
	// Key is the key as written.
	Key string
	// Suggest is the field the key most likely meant ("" if none):
	// a field whose name equals the key once case, '_' and '-' are
	// ignored (pageAlert → page_alert).
	Suggest string
}

// Decode decodes one YAML document (a yaml.Node of kind DocumentNode or
// any node below) into v through JSON, and returns the keys it ignored
// in document order. Errors come from encoding/json, prefixed with the
// offending JSON path when it names one.
func Decode(n *yaml.Node, v any) ([]Ignored, error) {
	var generic any
	if err := n.Decode(&generic); err != nil {
		return nil, err
	}
	generic = stringKeys(generic)
	var ign []Ignored
	generic = walk(generic, reflect.TypeOf(v), nil, &ign)
	b, err := json.Marshal(generic)
	if err != nil {
		return ign, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if ok := asType(err, &te); ok && te.Field != "" {
			return ign, fmt.Errorf("'%s' must be of type %s, got a %s", te.Field, kindName(te.Type), te.Value)
		}
		return ign, err
	}
	return ign, nil
}

func asType(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = t
	}
	return ok
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64, reflect.Int32:
		return "number"
	case reflect.Map, reflect.Struct:
		return "mapping"
	case reflect.Slice:
		return "list"
	}
	return t.Kind().String()
}

// stringKeys turns YAML maps with non-string keys into string-keyed maps,
// as YAML-to-JSON conversion does (a key 1 becomes "1").
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringKeys(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
	}
	return v
}

var rawMessage = reflect.TypeOf(json.RawMessage{})

// walk records the keys of v that t has no field for, and returns v with
// every number or boolean whose field is a string turned into its text,
// as Kubernetes' YAML-to-JSON conversion does (a label "generated: true"
// is the string "true").
func walk(v any, t reflect.Type, path []string, ign *[]Ignored) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessage || t.Kind() == reflect.Interface {
		return v
	}
	switch x := v.(type) {
	case []any:
		if t.Kind() != reflect.Slice {
			return v
		}
		for i, e := range x {
			x[i] = walk(e, t.Elem(), append(path, strconv.Itoa(i)), ign)
		}
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for _, k := range sortedKeys(x) {
				x[k] = walk(x[k], t.Elem(), append(path, k), ign)
			}
		case reflect.Struct:
			fields := jsonFields(t)
			for _, k := range sortedKeys(x) {
				f, ok := fields.find(k)
				if !ok {
					*ign = append(*ign, Ignored{Path: append([]string(nil), path...), Key: k, Suggest: fields.suggest(k)})
					continue
				}
				x[k] = walk(x[k], f.Type, append(path, f.name), ign)
			}
		}
	case bool, int, int64, uint64, float64:
		if t.Kind() == reflect.String {
			return scalarText(x)
		}
	}
	return v
}

func scalarText(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type field struct {
	reflect.StructField
	name string
}

type fieldSet []field

// jsonFields lists the JSON names of t's fields, inlining embedded ones.
func jsonFields(t reflect.Type) fieldSet {
	var out fieldSet
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				out = append(out, jsonFields(et)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{StructField: f, name: name})
	}
	return out
}

// find matches a key as encoding/json does: exactly, else ignoring case.
func (fs fieldSet) find(k string) (field, bool) {
	for _, f := range fs {
		if f.name == k {
			return f, true
		}
	}
	for _, f := range fs {
		if strings.EqualFold(f.name, k) {
			return f, true
		}
	}
	return field{}, false
}

func (fs fieldSet) suggest(k string) string {
	nk := norm(k)
	for _, f := range fs {
		if norm(f.name) == nk {
			return f.name
		}
	}
	return ""
}

func norm(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
}

// Documents splits a YAML stream into the root nodes of its non-empty
// documents. JSON is YAML, so JSON files are read as well.
func Documents(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var out []*yaml.Node
	for i := 1; ; i++ {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, fmt.Errorf("document %d: invalid YAML: %w", i, err)
		}
		if len(n.Content) == 0 || n.Content[0].Tag == "!!null" {
			continue
		}
		out = append(out, n.Content[0])
	}
}

// Head is the keys that name a document's format, matched as Decode
// matches keys (any case).
type Head struct {
	Version    string `json:"version"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// ReadHead decodes the Head of one document; a document that is not a
// mapping has an empty Head.
func ReadHead(n *yaml.Node) Head {
	var h Head
	if n.Kind != yaml.MappingNode {
		return h
	}
	_, _ = Decode(n, &h)
	return h
}

// FirstHead is the Head of the first non-empty document of data.
func FirstHead(data []byte) (Head, error) {
	docs, err := Documents(data)
	if len(docs) == 0 {
		return Head{}, err
	}
	return ReadHead(docs[0]), nil
}

// ReadFile reads a file of Kubernetes-style YAML documents: it checks
// data against spec's limits, splits it into documents and has readDoc
// read each one into SLOs, with where naming the document in messages
// (the file, and "document N" when there are several). It returns the
// SLOs, the warnings (*spec.Warning) and every problem at once.
func ReadFile(file string, data []byte, readDoc func(where string, n *yaml.Node, e *spec.Problems) []*spec.SLO) ([]*spec.SLO, []error, error) {
	if err := spec.CheckLimits(file, data); err != nil {
		return nil, nil, err
	}
	docs, err := Documents(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	e := &spec.Problems{File: file}
	var out []*spec.SLO
	for i, n := range docs {
		where := file
		if len(docs) > 1 {
			where = fmt.Sprintf("%s: document %d", file, i+1)
		}
		out = append(out, readDoc(where, n, e)...)
	}
	slos, err := e.SLOs(out)
	return slos, e.Warnings(), err
}

// ObjectMeta is the part of a Kubernetes resource's metadata that SLO
// resources use.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}
