// Package grafana holds typed models of the parts of Grafana's dashboard
// JSON (schemaVersion 39) that obsd generates: dashboards, panels,
// Prometheus targets, field config with units and thresholds, grid
// positions, templating variables and links. Values marshal with
// encoding/json; no JSON is concatenated by hand.
package grafana

// SchemaVersion is the dashboard schema version the models follow.
const SchemaVersion = 39

// DatasourceVar is the datasource reference every generated panel and
// target uses: the value of the "datasource" templating variable.
var DatasourceVar = &DatasourceRef{Type: "prometheus", UID: "${datasource}"}

// Dashboard is one Grafana dashboard.
type Dashboard struct {
	UID           string      `json:"uid"`
	Title         string      `json:"title"`
	Description   string      `json:"description,omitempty"`
	Tags          []string    `json:"tags"`
	Timezone      string      `json:"timezone"`
	Editable      bool        `json:"editable"`
	GraphTooltip  int         `json:"graphTooltip"`
	SchemaVersion int         `json:"schemaVersion"`
	Version       int         `json:"version"`
	Refresh       string      `json:"refresh,omitempty"`
	Time          TimeRange   `json:"time"`
	Templating    Templating  `json:"templating"`
	Annotations   Annotations `json:"annotations"`
	Links         []Link      `json:"links"`
	Panels        []Panel     `json:"panels"`
}

// TimeRange is a dashboard's default time range, e.g. now-6h to now.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Templating holds the dashboard variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Annotations holds the dashboard's annotation queries (kept empty but
// present: Grafana adds its built-in one on load).
type Annotations struct {
	List []any `json:"list"`
}

// Variable is one templating variable.
type Variable struct {
	Name       string           `json:"name"`
	Label      string           `json:"label,omitempty"`
	Type       string           `json:"type"` // datasource, custom, query, constant
	Query      string           `json:"query"`
	Hide       int              `json:"hide"` // 0 shown, 1 label hidden, 2 hidden
	Current    *VariableValue   `json:"current,omitempty"`
	Options    []VariableOption `json:"options,omitempty"`
	Regex      string           `json:"regex,omitempty"`
	Refresh    int              `json:"refresh,omitempty"`
	IncludeAll bool             `json:"includeAll"`
	AllValue   string           `json:"allValue,omitempty"`
	Multi      bool             `json:"multi"`
	Datasource *DatasourceRef   `json:"datasource,omitempty"`
}

// VariableValue is a variable's selected value.
type VariableValue struct {
	Selected bool   `json:"selected"`
	Text     string `json:"text"`
	Value    string `json:"value"`
}

// VariableOption is one option of a custom variable.
type VariableOption struct {
	Selected bool   `json:"selected"`
	Text     string `json:"text"`
	Value    string `json:"value"`
}

// Link is a dashboard link (to a URL or to dashboards with tags).
type Link struct {
	Title       string   `json:"title"`
	Type        string   `json:"type"` // "link" or "dashboards"
	URL         string   `json:"url,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	AsDropdown  bool     `json:"asDropdown"`
	IncludeVars bool     `json:"includeVars"`
	KeepTime    bool     `json:"keepTime"`
	TargetBlank bool     `json:"targetBlank"`
	Tooltip     string   `json:"tooltip,omitempty"`
	Icon        string   `json:"icon,omitempty"`
}

// DatasourceRef names a datasource by type and uid.
type DatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel types obsd generates.
const (
	TypeTimeseries    = "timeseries"
	TypeStat          = "stat"
	TypeGauge         = "gauge"
	TypeTable         = "table"
	TypeStateTimeline = "state-timeline"
	TypeRow           = "row"
)

// Panel is one dashboard panel.
type Panel struct {
	ID              int              `json:"id"`
	Type            string           `json:"type"`
	Title           string           `json:"title"`
	Description     string           `json:"description,omitempty"`
	GridPos         GridPos          `json:"gridPos"`
	Datasource      *DatasourceRef   `json:"datasource,omitempty"`
	Targets         []Target         `json:"targets,omitempty"`
	FieldConfig     FieldConfig      `json:"fieldConfig"`
	Options         map[string]any   `json:"options,omitempty"`
	Transformations []Transformation `json:"transformations,omitempty"`
	TimeFrom        string           `json:"timeFrom,omitempty"`
	Interval        string           `json:"interval,omitempty"`
	Collapsed       *bool            `json:"collapsed,omitempty"`
}

// GridPos places a panel on Grafana's 24-column grid.
type GridPos struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Target is one Prometheus query of a panel.
type Target struct {
	RefID        string         `json:"refId"`
	Datasource   *DatasourceRef `json:"datasource"`
	Expr         string         `json:"expr"`
	LegendFormat string         `json:"legendFormat,omitempty"`
	Instant      bool           `json:"instant,omitempty"`
	Range        bool           `json:"range"`
	Format       string         `json:"format,omitempty"` // time_series or table
	Hide         bool           `json:"hide,omitempty"`
}

// FieldConfig holds the defaults applied to every field of a panel and
// per-field overrides.
type FieldConfig struct {
	Defaults  FieldDefaults `json:"defaults"`
	Overrides []Override    `json:"overrides"`
}

// FieldDefaults are the field options obsd sets.
type FieldDefaults struct {
	Unit       string         `json:"unit"`
	NoValue    string         `json:"noValue,omitempty"`
	Decimals   *int           `json:"decimals,omitempty"`
	Min        *float64       `json:"min,omitempty"`
	Max        *float64       `json:"max,omitempty"`
	Color      *FieldColor    `json:"color,omitempty"`
	Thresholds *Thresholds    `json:"thresholds,omitempty"`
	Mappings   []ValueMapping `json:"mappings,omitempty"`
	Links      []DataLink     `json:"links,omitempty"`
	Custom     map[string]any `json:"custom,omitempty"`
}

// FieldColor selects how a field is coloured ("thresholds", "palette-classic").
type FieldColor struct {
	Mode string `json:"mode"`
}

// Thresholds are absolute or percentage colour steps; the first step's
// value is null (minus infinity).
type Thresholds struct {
	Mode  string          `json:"mode"` // absolute or percentage
	Steps []ThresholdStep `json:"steps"`
}

// ThresholdStep is one colour step from Value upwards; a nil Value is the base.
type ThresholdStep struct {
	Color string   `json:"color"`
	Value *float64 `json:"value"`
}

// ValueMapping maps values to text and colour (type "value" or "range").
type ValueMapping struct {
	Type    string                   `json:"type"`
	Options map[string]MappingResult `json:"options"`
}

// MappingResult is what a mapped value displays.
type MappingResult struct {
	Text  string `json:"text"`
	Color string `json:"color,omitempty"`
	Index int    `json:"index"`
}

// DataLink is a link on a field's values; the URL may use Grafana's
// ${__data.fields.NAME} and ${__value.raw} interpolation.
type DataLink struct {
	Title       string `json:"title"`
	URL         string `json:"url"`
	TargetBlank bool   `json:"targetBlank"`
}

// Override changes field options for fields a matcher selects.
type Override struct {
	Matcher    OverrideMatcher    `json:"matcher"`
	Properties []OverrideProperty `json:"properties"`
}

// OverrideMatcher selects fields, e.g. {id: "byName", options: "slo"}.
type OverrideMatcher struct {
	ID      string `json:"id"`
	Options string `json:"options"`
}

// OverrideProperty sets one field option, e.g. {id: "unit", value: "s"}.
type OverrideProperty struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// Transformation is one data transformation of a panel.
type Transformation struct {
	ID      string         `json:"id"`
	Options map[string]any `json:"options"`
}

// F returns a pointer to v, for optional numeric fields.
func F(v float64) *float64 { return &v }

// I returns a pointer to v, for optional integer fields.
func I(v int) *int { return &v }

// Steps builds absolute thresholds: base colour, then (value, colour) pairs.
func Steps(base string, steps ...ThresholdStep) *Thresholds {
	return &Thresholds{Mode: "absolute", Steps: append([]ThresholdStep{{Color: base}}, steps...)}
}

// Step is one threshold step at value v.
func Step(v float64, color string) ThresholdStep { return ThresholdStep{Color: color, Value: F(v)} }
