// Package spec mirrors Sloth's two SLO file formats as Sloth v0.16.0
// declares them (github.com/slok/sloth pkg/prometheus/api/v1 and
// pkg/kubernetes/api/sloth/v1): the "prometheus/v1" file with snake_case
// keys and the Kubernetes CRD "sloth.slok.dev/v1 PrometheusServiceLevel"
// with camelCase keys. Both are decoded as Sloth decodes them, through
// JSON (slo/formats/internal/lenient). The types are a hand-written
// mirror because Sloth's module pulls in Kubernetes' apimachinery.
package spec

import (
	"encoding/json"

	"github.com/obsd-dev/obsd/slo/formats/internal/lenient"
)

// File is a prometheus/v1 file.
type File struct {
	Version    string            `json:"version"`
	Service    string            `json:"service"`
	Labels     map[string]string `json:"labels,omitempty"`
	SLOPlugins SLOPlugins        `json:"slo_plugins,omitempty"`
	SLOs       []SLO             `json:"slos,omitempty"`
}

// SLO is one prometheus/v1 SLO.
type SLO struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Objective   float64           `json:"objective"`
	Plugins     SLOPlugins        `json:"plugins,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	SLI         SLI               `json:"sli"`
	Alerting    Alerting          `json:"alerting"`
}

// SLI is exactly one of Raw, Events or Plugin.
type SLI struct {
	Raw    *SLIRaw    `json:"raw,omitempty"`
	Events *SLIEvents `json:"events,omitempty"`
	Plugin *SLIPlugin `json:"plugin,omitempty"`
}

// SLIRaw is an error ratio query.
type SLIRaw struct {
	ErrorRatioQuery string `json:"error_ratio_query"`
}

// SLIEvents is an error and a total query.
type SLIEvents struct {
	ErrorQuery string `json:"error_query"`
	TotalQuery string `json:"total_query"`
}

// SLIPlugin is an SLI plugin reference.
type SLIPlugin struct {
	ID      string            `json:"id"`
	Options map[string]string `json:"options"`
}

// Alerting is an SLO's alerting.
type Alerting struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	PageAlert   Alert             `json:"page_alert,omitempty"`
	TicketAlert Alert             `json:"ticket_alert,omitempty"`
}

// Alert is one severity.
type Alert struct {
	Disable     bool              `json:"disable,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SLOPlugins is a chain of SLO (rule generation) plugins.
type SLOPlugins struct {
	OverridePrevious bool        `json:"overridePrevious,omitempty"`
	Chain            []SLOPlugin `json:"chain"`
}

// SLOPlugin is one SLO plugin reference.
type SLOPlugin struct {
	ID       string          `json:"id"`
	Config   json.RawMessage `json:"config,omitempty"`
	Priority int             `json:"priority,omitempty"`
}

// CRD is a sloth.slok.dev/v1 PrometheusServiceLevel.
type CRD struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   lenient.ObjectMeta `json:"metadata"`
	Spec       struct {
		Service    string            `json:"service"`
		Labels     map[string]string `json:"labels,omitempty"`
		SLOPlugins *SLOPlugins       `json:"sloPlugins,omitempty"`
		SLOs       []CRDSLO          `json:"slos,omitempty"`
	} `json:"spec"`
	Status json.RawMessage `json:"status,omitempty"`
}

// CRDSLO is one SLO of the CRD.
type CRDSLO struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Objective   float64           `json:"objective"`
	Plugins     *SLOPlugins       `json:"plugins,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	SLI         struct {
		Raw *struct {
			ErrorRatioQuery string `json:"errorRatioQuery"`
		} `json:"raw,omitempty"`
		Events *struct {
			ErrorQuery string `json:"errorQuery"`
			TotalQuery string `json:"totalQuery"`
		} `json:"events,omitempty"`
		Plugin *SLIPlugin `json:"plugin,omitempty"`
	} `json:"sli"`
	Alerting struct {
		Name        string            `json:"name,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
		PageAlert   Alert             `json:"pageAlert,omitempty"`
		TicketAlert Alert             `json:"ticketAlert,omitempty"`
	} `json:"alerting"`
}

// File converts the CRD to the prometheus/v1 file it is equivalent to.
func (c CRD) File() File {
	f := File{Version: "prometheus/v1", Service: c.Spec.Service, Labels: c.Spec.Labels}
	if c.Spec.SLOPlugins != nil {
		f.SLOPlugins = *c.Spec.SLOPlugins
	}
	for _, s := range c.Spec.SLOs {
		o := SLO{Name: s.Name, Description: s.Description, Objective: s.Objective, Labels: s.Labels}
		if s.Plugins != nil {
			o.Plugins = *s.Plugins
		}
		if r := s.SLI.Raw; r != nil {
			o.SLI.Raw = &SLIRaw{ErrorRatioQuery: r.ErrorRatioQuery}
		}
		if ev := s.SLI.Events; ev != nil {
			o.SLI.Events = &SLIEvents{ErrorQuery: ev.ErrorQuery, TotalQuery: ev.TotalQuery}
		}
		o.SLI.Plugin = s.SLI.Plugin
		a := s.Alerting
		o.Alerting = Alerting{Name: a.Name, Labels: a.Labels, Annotations: a.Annotations, PageAlert: a.PageAlert, TicketAlert: a.TicketAlert}
		f.SLOs = append(f.SLOs, o)
	}
	return f
}
