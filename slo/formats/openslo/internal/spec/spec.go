// Package spec is the OpenSLO v1 documents as written in YAML, decoded
// strictly by the openslo reader. It is named spec, and its types keep
// their unexported names, because YAML decode errors name them to users
// ("field colour not found in type spec.oslSLODoc") as they did before the
// readers moved out of slo/spec; the reader uses them through the
// exported aliases below.
package spec

// The types by the names the reader uses.
type (
	Meta            = oslMeta
	SLODoc          = oslSLODoc
	SLOSpec         = oslSLOSpec
	TimeWindow      = oslTimeWindow
	Calendar        = oslCalendar
	Objective       = oslObjective
	SLIDoc          = oslSLIDoc
	SLISpec         = oslSLISpec
	Ratio           = oslRatio
	Metric          = oslMetric
	Source          = oslSource
	PolicyDoc       = oslPolicyDoc
	PolicySpec      = oslPolicySpec
	ConditionDoc    = oslConditionDoc
	ConditionSpec   = oslConditionSpec
	Condition       = oslCondition
	TargetDoc       = oslTargetDoc
	TargetSpec      = oslTargetSpec
	DescDoc         = oslDescDoc
	DataSourceDoc   = oslDataSourceDoc
	PolicyTopDoc    = oslPolicyTopDoc
	ConditionTopDoc = oslConditionTopDoc
	TargetTopDoc    = oslTargetTopDoc
)

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
	// PlainName is set when the item is a plain string, which OpenSLO v1
	// does not allow (the reader refuses it, naming the way forward).
	PlainName      string         `yaml:"-"`
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

// UnmarshalYAML reads a plain string item into PlainName, and anything
// else as the policy. It is the func-style unmarshaler because that one
// decodes with the calling decoder, so unknown keys stay errors.
func (p *oslPolicyDoc) UnmarshalYAML(unmarshal func(any) error) error {
	var name string
	if err := unmarshal(&name); err == nil {
		p.PlainName = name
		return nil
	}
	type policy oslPolicyDoc // without this method
	return unmarshal((*policy)(p))
}
