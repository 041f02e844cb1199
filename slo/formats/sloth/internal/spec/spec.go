// Package spec is Sloth's prometheus/v1 file as written in YAML, decoded
// strictly by the sloth reader. It is named spec, and its types keep their
// unexported names, because YAML decode errors name them to users
// ("field colour not found in type spec.slothSLO") as they did before the
// readers moved out of slo/spec; the reader uses them through the
// exported aliases below.
package spec

// The types by the names the reader uses.
type (
	File  = slothFile
	SLO   = slothSLO
	Alert = slothAlert
)

type slothFile struct {
	Version string            `yaml:"version"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels"`
	SLOs    []slothSLO        `yaml:"slos"`
}

type slothSLO struct {
	Name        string            `yaml:"name"`
	Objective   float64           `yaml:"objective"`
	Description string            `yaml:"description"`
	Labels      map[string]string `yaml:"labels"`
	SLI         struct {
		Events *struct {
			ErrorQuery string `yaml:"error_query"`
			TotalQuery string `yaml:"total_query"`
		} `yaml:"events"`
		Raw    map[string]any `yaml:"raw"`
		Plugin map[string]any `yaml:"plugin"`
	} `yaml:"sli"`
	Alerting struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
		PageAlert   slothAlert        `yaml:"page_alert"`
		TicketAlert slothAlert        `yaml:"ticket_alert"`
	} `yaml:"alerting"`
}

type slothAlert struct {
	Disable     bool              `yaml:"disable"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}
