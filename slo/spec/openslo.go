package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// APIVersionOpenSLO is the apiVersion of the OpenSLO documents obsd imports.
const APIVersionOpenSLO = "openslo/v1"

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

// IsOpenSLO reports whether a file's first YAML document declares an
// OpenSLO apiVersion (any "openslo/..." version; only v1 is accepted
// later, with an error naming the version otherwise).
func IsOpenSLO(data []byte) bool {
	var head struct {
		Version    string `yaml:"version"`
		APIVersion string `yaml:"apiVersion"`
	}
	if yaml.Unmarshal(data, &head) != nil {
		return false
	}
	return head.Version == "" && strings.HasPrefix(head.APIVersion, "openslo/")
}

// oslMeta is an OpenSLO object's metadata.
type oslMeta struct {
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName"`
	Labels      map[string]any    `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type oslSLODoc struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   oslMeta    `yaml:"metadata"`
	Spec       oslSLOSpec `yaml:"spec"`
}

type oslSLOSpec struct {
	Description     string          `yaml:"description"`
	Service         string          `yaml:"service"`
	Indicator       *oslSLIDoc      `yaml:"indicator"`
	IndicatorRef    string          `yaml:"indicatorRef"`
	TimeWindow      []oslTimeWindow `yaml:"timeWindow"`
	BudgetingMethod string          `yaml:"budgetingMethod"`
	Objectives      []oslObjective  `yaml:"objectives"`
	AlertPolicies   []oslPolicyDoc  `yaml:"alertPolicies"`
}

type oslTimeWindow struct {
	Duration  string       `yaml:"duration"`
	IsRolling *bool        `yaml:"isRolling"`
	Calendar  *oslCalendar `yaml:"calendar"`
}

type oslCalendar struct {
	StartTime string `yaml:"startTime"`
	TimeZone  string `yaml:"timeZone"`
}

type oslObjective struct {
	DisplayName     string   `yaml:"displayName"`
	Op              string   `yaml:"op"`
	Value           *float64 `yaml:"value"`
	Target          *float64 `yaml:"target"`
	TargetPercent   *float64 `yaml:"targetPercent"`
	TimeSliceTarget *float64 `yaml:"timeSliceTarget"`
	TimeSliceWindow string   `yaml:"timeSliceWindow"`
}

type oslSLIDoc struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   oslMeta    `yaml:"metadata"`
	Spec       oslSLISpec `yaml:"spec"`
}

type oslSLISpec struct {
	Description     string     `yaml:"description"`
	ThresholdMetric *oslMetric `yaml:"thresholdMetric"`
	RatioMetric     *oslRatio  `yaml:"ratioMetric"`
}

type oslRatio struct {
	Counter *bool      `yaml:"counter"`
	Good    *oslMetric `yaml:"good"`
	Bad     *oslMetric `yaml:"bad"`
	Total   *oslMetric `yaml:"total"`
	RawType string     `yaml:"rawType"`
	Raw     *oslMetric `yaml:"raw"`
}

type oslMetric struct {
	MetricSource oslSource `yaml:"metricSource"`
}

type oslSource struct {
	MetricSourceRef string         `yaml:"metricSourceRef"`
	Type            string         `yaml:"type"`
	Spec            map[string]any `yaml:"spec"`
}

type oslPolicyDoc struct {
	AlertPolicyRef string         `yaml:"alertPolicyRef"`
	APIVersion     string         `yaml:"apiVersion"`
	Kind           string         `yaml:"kind"`
	Metadata       *oslMeta       `yaml:"metadata"`
	Spec           *oslPolicySpec `yaml:"spec"`
}

type oslPolicySpec struct {
	Description         string            `yaml:"description"`
	AlertWhenNoData     *bool             `yaml:"alertWhenNoData"`
	AlertWhenResolved   *bool             `yaml:"alertWhenResolved"`
	AlertWhenBreaching  *bool             `yaml:"alertWhenBreaching"`
	Conditions          []oslConditionDoc `yaml:"conditions"`
	NotificationTargets []oslTargetDoc    `yaml:"notificationTargets"`
}

type oslConditionDoc struct {
	ConditionRef string            `yaml:"conditionRef"`
	APIVersion   string            `yaml:"apiVersion"`
	Kind         string            `yaml:"kind"`
	Metadata     *oslMeta          `yaml:"metadata"`
	Spec         *oslConditionSpec `yaml:"spec"`
}

type oslConditionSpec struct {
	Description string       `yaml:"description"`
	Severity    string       `yaml:"severity"`
	Condition   oslCondition `yaml:"condition"`
}

type oslCondition struct {
	Kind           string   `yaml:"kind"`
	Op             string   `yaml:"op"`
	Threshold      *float64 `yaml:"threshold"`
	LookbackWindow string   `yaml:"lookbackWindow"`
	AlertAfter     string   `yaml:"alertAfter"`
}

type oslTargetDoc struct {
	TargetRef  string         `yaml:"targetRef"`
	APIVersion string         `yaml:"apiVersion"`
	Kind       string         `yaml:"kind"`
	Metadata   *oslMeta       `yaml:"metadata"`
	Spec       *oslTargetSpec `yaml:"spec"`
}

type oslTargetSpec struct {
	Target      string `yaml:"target"`
	Description string `yaml:"description"`
}

type oslDescDoc struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   oslMeta `yaml:"metadata"`
	Spec       struct {
		Description string `yaml:"description"`
	} `yaml:"spec"`
}

type oslDataSourceDoc struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   oslMeta `yaml:"metadata"`
	Spec       struct {
		Description       string         `yaml:"description"`
		Type              string         `yaml:"type"`
		ConnectionDetails map[string]any `yaml:"connectionDetails"`
	} `yaml:"spec"`
}

type oslPolicyTopDoc struct {
	APIVersion string        `yaml:"apiVersion"`
	Kind       string        `yaml:"kind"`
	Metadata   oslMeta       `yaml:"metadata"`
	Spec       oslPolicySpec `yaml:"spec"`
}

type oslConditionTopDoc struct {
	APIVersion string           `yaml:"apiVersion"`
	Kind       string           `yaml:"kind"`
	Metadata   oslMeta          `yaml:"metadata"`
	Spec       oslConditionSpec `yaml:"spec"`
}

type oslTargetTopDoc struct {
	APIVersion string        `yaml:"apiVersion"`
	Kind       string        `yaml:"kind"`
	Metadata   oslMeta       `yaml:"metadata"`
	Spec       oslTargetSpec `yaml:"spec"`
}

// oslDoc is one top-level OpenSLO document with where it came from.
type oslDoc struct {
	file  string
	index int // 1-based position in its file
	kind  string
	name  string
	value any // *oslSLODoc, *oslSLIDoc, *oslPolicyTopDoc, ...
}

// where names the document in errors.
func (d *oslDoc) where() string {
	return fmt.Sprintf("%s: document %d (%s %q)", d.file, d.index, d.kind, d.name)
}

// OpenSLOSet gathers OpenSLO documents from one or more files, so that an
// SLO may reference an SLI, AlertPolicy, AlertCondition,
// AlertNotificationTarget or DataSource declared in any of them.
type OpenSLOSet struct {
	docs   []*oslDoc
	byKind map[string]map[string]*oslDoc
	errs   []error
}

// NewOpenSLOSet returns an empty set.
func NewOpenSLOSet() *OpenSLOSet {
	return &OpenSLOSet{byKind: map[string]map[string]*oslDoc{}}
}

// Add decodes every document of one file strictly (unknown keys are
// errors), after the size and alias-expansion limits of every SLO file.
// Problems are kept and reported by Convert.
func (s *OpenSLOSet) Add(file string, data []byte) {
	if err := checkLimits(file, data); err != nil {
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
			continue
		}
		var head struct {
			APIVersion string  `yaml:"apiVersion"`
			Kind       string  `yaml:"kind"`
			Metadata   oslMeta `yaml:"metadata"`
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
		if err := strict.Decode(v); err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: %w", d.where(), err))
			continue
		}
		if head.APIVersion != APIVersionOpenSLO {
			s.errs = append(s.errs, fmt.Errorf("%s: 'apiVersion' must be %q, got %q", d.where(), APIVersionOpenSLO, head.APIVersion))
			continue
		}
		if !checkOSLName(d, "metadata.name", head.Metadata.Name, &s.errs) {
			continue
		}
		d.value = v
		s.add(d)
	}
}

func (s *OpenSLOSet) add(d *oslDoc) {
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
		return &oslSLODoc{}
	case kindSLI:
		return &oslSLIDoc{}
	case kindService:
		return &oslDescDoc{}
	case kindDataSource:
		return &oslDataSourceDoc{}
	case kindPolicy:
		return &oslPolicyTopDoc{}
	case kindCondition:
		return &oslConditionTopDoc{}
	case kindTarget:
		return &oslTargetTopDoc{}
	}
	return nil
}

func checkOSLName(d *oslDoc, field, name string, errs *[]error) bool {
	switch {
	case name == "":
		*errs = append(*errs, fmt.Errorf("%s: '%s' is required", d.where(), field))
	case !nameRe.MatchString(name):
		*errs = append(*errs, fmt.Errorf("%s: '%s' must match %s", d.where(), field, nameRe))
	default:
		return true
	}
	return false
}

// ref finds a referenced document of a kind.
func (s *OpenSLOSet) ref(kind, name string) *oslDoc { return s.byKind[kind][name] }

// Convert validates every SLO document against the documents it
// references and returns the SLOs that are valid, with every problem of
// every document (file, document index, kind, name and field path).
func (s *OpenSLOSet) Convert() ([]*SLO, error) {
	errList := append([]error(nil), s.errs...)
	var out []*SLO
	for _, d := range s.docs {
		c := &oslConv{set: s}
		switch d.kind {
		case kindSLO:
			slo := c.convertSLO(d, d.value.(*oslSLODoc))
			if len(c.errs) == 0 {
				out = append(out, slo)
			}
		case kindSLI: // checked even when no SLO references it
			c.indicator(d, "spec", &d.value.(*oslSLIDoc).Spec)
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

// parseOpenSLO reads one self-contained OpenSLO file.
func parseOpenSLO(file string, data []byte) ([]*SLO, error) {
	s := NewOpenSLOSet()
	s.Add(file, data)
	out, err := s.Convert()
	if err == nil && len(out) == 0 {
		return nil, fmt.Errorf("%s: declares no %s document of kind SLO", file, APIVersionOpenSLO)
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
