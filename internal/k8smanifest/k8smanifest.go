// Package k8smanifest writes obsd's generated rules and dashboards as
// Kubernetes objects for clusters that run the Prometheus Operator and
// Grafana's dashboard sidecar (the kube-prometheus-stack convention): a
// Prometheus rule file becomes a monitoring.coreos.com/v1 PrometheusRule,
// dashboards become one ConfigMap each. The content is carried unchanged;
// only the wrapping is added. It imports nothing of obsd.
package k8smanifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Output formats of the obsd commands that write Kubernetes objects.
const (
	// FormatPrometheusOperator is a PrometheusRule manifest (`obsd slo
	// rules`, `obsd rules self`).
	FormatPrometheusOperator = "prometheus-operator"
	// FormatConfigMap is one ConfigMap per dashboard (`obsd dashboards
	// generate`).
	FormatConfigMap = "configmap"
)

// SLOFilesDigestAnnotation is the annotation on every object generated from
// SLO files that holds SLOFilesDigest of those files. The Helm chart
// (deploy/helm/obsd/templates/_monitoring.tpl) computes the same digest of
// the SLO files it mounts and refuses generated objects whose digest
// differs, so rules and dashboards cannot drift from the SLOs obsd runs.
const SLOFilesDigestAnnotation = "obsd.dev/slo-files-sha256"

// MaxConfigMapBytes is the most data one ConfigMap may hold (the API
// server refuses larger ones).
const MaxConfigMapBytes = 1 << 20

// Meta is the metadata of a generated object. Empty fields are left out:
// an object without a namespace goes where `kubectl apply -n` puts it.
type Meta struct {
	Name        string
	Namespace   string
	Labels      map[string]string
	Annotations map[string]string
}

// File is one generated file: the ConfigMap data key and its content.
type File struct {
	Name string
	Data []byte
}

var (
	dns1123Label     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	qualifiedName    = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	labelValue       = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)
	configMapKey     = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	notNameChar      = regexp.MustCompile(`[^a-z0-9.-]+`)
)

// validate reports every problem of m at once; what names the flag or
// value to fix (e.g. "'--name'").
func (m Meta) validate(what map[string]string) error {
	var errs []error
	if !isSubdomain(m.Name) {
		errs = append(errs, fmt.Errorf("%s %q must be a DNS subdomain: lower case letters, digits, '-' and '.', at most 253 characters", what["name"], m.Name))
	}
	if m.Namespace != "" && (len(m.Namespace) > 63 || !dns1123Label.MatchString(m.Namespace)) {
		errs = append(errs, fmt.Errorf("%s %q must be a DNS label: lower case letters, digits and '-', at most 63 characters", what["namespace"], m.Namespace))
	}
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		if err := checkKey(k); err != nil {
			errs = append(errs, fmt.Errorf("%s key %q: %w", what["labels"], k, err))
		}
		if v := m.Labels[k]; len(v) > 63 || !labelValue.MatchString(v) {
			errs = append(errs, fmt.Errorf("%s %s=%q: a label value is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", what["labels"], k, v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.Annotations)) {
		if err := checkKey(k); err != nil {
			errs = append(errs, fmt.Errorf("%s key %q: %w", what["annotations"], k, err))
		}
	}
	return errors.Join(errs...)
}

func isSubdomain(s string) bool { return len(s) <= 253 && dns1123Subdomain.MatchString(s) }

// checkKey checks a label or annotation key: an optional DNS subdomain
// prefix and "/", then a name of at most 63 characters.
func checkKey(k string) error {
	prefix, name, found := strings.Cut(k, "/")
	if !found {
		prefix, name = "", k
	}
	if found && !isSubdomain(prefix) {
		return fmt.Errorf("the prefix %q must be a DNS subdomain", prefix)
	}
	if len(name) > 63 || !qualifiedName.MatchString(name) {
		return errors.New("must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, after an optional 'prefix/'")
	}
	return nil
}

// PrometheusRule wraps a Prometheus rule file, as `obsd slo rules` and
// `obsd rules self` write it, in a monitoring.coreos.com/v1 PrometheusRule
// after validating it as Prometheus loads rule files (rulefmt.Parse):
// the file's groups become spec.groups node for node (same keys, order and
// scalar styles), and the file's leading comment lines head the manifest.
func PrometheusRule(ruleFile []byte, meta Meta) ([]byte, error) {
	if err := meta.validate(map[string]string{"name": "'--name'", "namespace": "'--namespace'", "labels": "'--label'", "annotations": "annotation"}); err != nil {
		return nil, err
	}
	if _, errs := rulefmt.Parse(ruleFile, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler)); len(errs) > 0 {
		return nil, fmt.Errorf("not a valid Prometheus rule file: %w", errors.Join(errs...))
	}
	var file yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(ruleFile))
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("could not read the rule file: %w", err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		return nil, errors.New("not a Prometheus rule file: want one YAML document")
	}
	if file.Kind != yaml.DocumentNode || len(file.Content) != 1 || file.Content[0].Kind != yaml.MappingNode ||
		len(file.Content[0].Content) != 2 || file.Content[0].Content[0].Value != "groups" || file.Content[0].Content[1].Kind != yaml.SequenceNode {
		return nil, errors.New("not a Prometheus rule file: want a single top-level key 'groups' holding a list")
	}
	groups := file.Content[0].Content[1]
	spellNulls(groups)
	root := mapping(
		str("apiVersion"), str("monitoring.coreos.com/v1"),
		str("kind"), str("PrometheusRule"),
		str("metadata"), metaNode(meta),
		str("spec"), mapping(str("groups"), groups),
	)
	return encode(leadingComments(ruleFile), root)
}

// ConfigMaps writes one ConfigMap per file as a YAML stream, each holding
// its file under the file's name. A ConfigMap is named namePrefix plus the
// file name without its extension; a base name that is not a valid object
// name (upper case, '_') is lower-cased, its other characters turned into
// '-', and 8 hex digits of its SHA-256 appended, so two files never share a
// name. meta.Name is not used.
func ConfigMaps(files []File, namePrefix string, meta Meta) ([]byte, error) {
	var errs []error
	var docs []*yaml.Node
	seen := map[string]string{}
	for _, f := range files {
		m := meta
		m.Name = namePrefix + objectName(strings.TrimSuffix(f.Name, filepath.Ext(f.Name)))
		if err := m.validate(map[string]string{"name": "ConfigMap name (from '--name-prefix' and " + f.Name + ")",
			"namespace": "'--namespace'", "labels": "'--label'", "annotations": "annotation"}); err != nil {
			errs = append(errs, err)
			continue
		}
		if !configMapKey.MatchString(f.Name) {
			errs = append(errs, fmt.Errorf("file name %q is not a ConfigMap key: letters, digits, '-', '_' and '.' only", f.Name))
			continue
		}
		if len(f.Data) > MaxConfigMapBytes {
			errs = append(errs, fmt.Errorf("%s is %d bytes, over the %d a ConfigMap may hold", f.Name, len(f.Data), MaxConfigMapBytes))
			continue
		}
		if prev, ok := seen[m.Name]; ok {
			errs = append(errs, fmt.Errorf("%s and %s would both be ConfigMap %q", prev, f.Name, m.Name))
			continue
		}
		seen[m.Name] = f.Name
		data := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(f.Data), Style: yaml.LiteralStyle}
		docs = append(docs, mapping(
			str("apiVersion"), str("v1"),
			str("kind"), str("ConfigMap"),
			str("metadata"), metaNode(m),
			str("data"), mapping(str(f.Name), data),
		))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			out.WriteString("---\n")
		}
		b, err := encode("", d)
		if err != nil {
			return nil, err
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}

// objectName makes s a valid object name part (see ConfigMaps).
func objectName(s string) string {
	clean := strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if clean == s {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	if clean == "" {
		return hex.EncodeToString(sum[:4])
	}
	return clean + "-" + hex.EncodeToString(sum[:4])
}

// DigestContents is the digest of a set of SLO files by content alone
// (neither their names nor their order count): the SHA-256 of each file in
// lower-case hex, sorted, joined with "\n", and that text's SHA-256 in hex.
// The Helm chart computes it as
//
//	sha256sum (join "\n" (sortAlpha <sha256sum of each file>))
func DigestContents(contents ...[]byte) string {
	sums := make([]string, 0, len(contents))
	for _, c := range contents {
		s := sha256.Sum256(c)
		sums = append(sums, hex.EncodeToString(s[:]))
	}
	sort.Strings(sums)
	s := sha256.Sum256([]byte(strings.Join(sums, "\n")))
	return hex.EncodeToString(s[:])
}

// SLOFilesDigest is DigestContents of the files the patterns (paths or
// globs, as `--slo` takes them) match, each file once.
func SLOFilesDigest(patterns ...string) (string, error) {
	var files []string
	seen := map[string]bool{}
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return "", fmt.Errorf("invalid pattern %q: %w", p, err)
		}
		if len(m) == 0 {
			return "", fmt.Errorf("pattern %q matches no file", p)
		}
		for _, f := range m {
			if abs, err := filepath.Abs(f); err == nil && !seen[abs] {
				seen[abs] = true
				files = append(files, f)
			}
		}
	}
	contents := make([][]byte, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("could not read %q: %w", f, err)
		}
		contents = append(contents, b)
	}
	return DigestContents(contents...), nil
}

// leadingComments returns the comment lines the file starts with.
func leadingComments(file []byte) string {
	var lines []string
	for _, l := range strings.Split(string(file), "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func encode(header string, root *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	if header != "" {
		buf.WriteString(header + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("could not encode the manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("could not encode the manifest: %w", err)
	}
	return buf.Bytes(), nil
}

func metaNode(m Meta) *yaml.Node {
	n := mapping(str("name"), str(m.Name))
	if m.Namespace != "" {
		n.Content = append(n.Content, str("namespace"), str(m.Namespace))
	}
	if len(m.Labels) > 0 {
		n.Content = append(n.Content, str("labels"), stringMap(m.Labels))
	}
	if len(m.Annotations) > 0 {
		n.Content = append(n.Content, str("annotations"), stringMap(m.Annotations))
	}
	return n
}

func stringMap(m map[string]string) *yaml.Node {
	n := mapping()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n.Content = append(n.Content, str(k), str(m[k]))
	}
	return n
}

func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
}

// spellNulls writes the empty nulls under n (an omitted value, "key:")
// as null: in a flow collection the encoder would write an empty null as
// an empty quoted string, so that a key or value would change meaning.
func spellNulls(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" {
		n.Value = "null"
	}
	for _, c := range n.Content {
		spellNulls(c)
	}
}

// str is a string scalar; the encoder quotes it where YAML would read
// another type ("1", "true").
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
