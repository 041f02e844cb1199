package pyrra

import (
	"encoding/json"

	"github.com/obsd-dev/obsd/slo/formats/internal/lenient"
)

// objective mirrors pyrra.dev/v1alpha1 ServiceLevelObjective as Pyrra
// declares it (kubernetes/api/v1alpha1/servicelevelobjective_types.go).
type objective struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   lenient.ObjectMeta `json:"metadata"`
	Spec       struct {
		Description             string       `json:"description"`
		Target                  string       `json:"target"`
		Window                  string       `json:"window"`
		Indicator               indicator    `json:"indicator"`
		Alerting                alertingSpec `json:"alerting"`
		PartialResponseStrategy string       `json:"partial_response_strategy,omitempty"`
	} `json:"spec"`
	Status json.RawMessage `json:"status,omitempty"`
}

type indicator struct {
	Ratio         *ratioIndicator   `json:"ratio,omitempty"`
	Latency       *latencyIndicator `json:"latency,omitempty"`
	LatencyNative *struct {
		Total    query    `json:"total"`
		Latency  string   `json:"latency"`
		Grouping []string `json:"grouping"`
	} `json:"latencyNative,omitempty"`
	BoolGauge *boolGauge `json:"bool_gauge,omitempty"`
	// BoolGaugeCamel accepts the camelCase spelling some docs use.
	BoolGaugeCamel *boolGauge `json:"boolGauge,omitempty"`
}

type ratioIndicator struct {
	Errors   query    `json:"errors"`
	Total    query    `json:"total"`
	Grouping []string `json:"grouping"`
}

type latencyIndicator struct {
	Success  query    `json:"success"`
	Total    query    `json:"total"`
	Grouping []string `json:"grouping"`
}

type boolGauge struct {
	query
	Grouping []string `json:"grouping"`
}

type query struct {
	Metric string `json:"metric"`
}

type alertingSpec struct {
	Disabled *bool `json:"disabled,omitempty"`
	// BurnRateType is "static" (default) or "dynamic" (Pyrra's
	// traffic-aware thresholds, which obsd does not have).
	BurnRateType string `json:"burnRateType,omitempty"`
	Burnrates    *bool  `json:"burnrates,omitempty"`
	Absent       *bool  `json:"absent,omitempty"`
	Name         string `json:"name,omitempty"`
	AbsentName   string `json:"absentName,omitempty"`
}
