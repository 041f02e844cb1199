package dashboards

import (
	"github.com/obsd-dev/obsd/dashboards/grafana"
)

// gridWidth is the width of Grafana's grid in columns.
const gridWidth = 24

// board builds a dashboard's panels left to right, top to bottom, giving
// each a unique id and a gridPos that never overlaps the others: a panel
// that does not fit in the current row starts a new one.
type board struct {
	panels []grafana.Panel
	x, y   int
	rowH   int
}

// add places p with width w and height h and returns it after placing.
func (b *board) add(w, h int, p grafana.Panel) {
	if b.x+w > gridWidth {
		b.newRow()
	}
	p.ID = len(b.panels) + 1
	p.GridPos = grafana.GridPos{X: b.x, Y: b.y, W: w, H: h}
	if p.Type != grafana.TypeRow {
		p.Datasource = grafana.DatasourceVar
		for i := range p.Targets {
			p.Targets[i].Datasource = grafana.DatasourceVar
			p.Targets[i].RefID = string(rune('A' + i))
		}
	}
	b.panels = append(b.panels, p)
	b.x += w
	b.rowH = max(b.rowH, h)
}

// newRow moves the cursor below the tallest panel of the current row.
func (b *board) newRow() {
	if b.x == 0 {
		return
	}
	b.y += b.rowH
	b.x, b.rowH = 0, 0
}

// row adds a full-width row header.
func (b *board) row(title string) {
	b.newRow()
	f := false
	b.add(gridWidth, 1, grafana.Panel{Type: grafana.TypeRow, Title: title, Collapsed: &f})
	b.newRow()
}

// target is a range query with a legend.
func target(expr, legend string) grafana.Target {
	return grafana.Target{Expr: expr, LegendFormat: legend, Range: true, Format: "time_series"}
}

// instant is an instant query formatted as a table.
func instant(expr string) grafana.Target {
	return grafana.Target{Expr: expr, Instant: true, Format: "table"}
}

// timeseries is a line panel with a unit.
func timeseries(title, unit string, targets ...grafana.Target) grafana.Panel {
	return grafana.Panel{
		Type: grafana.TypeTimeseries, Title: title, Targets: targets,
		FieldConfig: grafana.FieldConfig{Defaults: grafana.FieldDefaults{
			Unit:  unit,
			Color: &grafana.FieldColor{Mode: "palette-classic"},
			Custom: map[string]any{
				"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
				"showPoints": "never", "spanNulls": false,
			},
		}, Overrides: []grafana.Override{}},
		Options: map[string]any{
			"legend":  map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": true},
			"tooltip": map[string]any{"mode": "multi", "sort": "desc"},
		},
	}
}

// stat is a single-value panel with a unit and threshold colours.
func stat(title, unit string, th *grafana.Thresholds, targets ...grafana.Target) grafana.Panel {
	if th == nil {
		th = grafana.Steps("green")
	}
	return grafana.Panel{
		Type: grafana.TypeStat, Title: title, Targets: targets,
		FieldConfig: grafana.FieldConfig{Defaults: grafana.FieldDefaults{
			Unit: unit, Thresholds: th, Color: &grafana.FieldColor{Mode: "thresholds"},
		}, Overrides: []grafana.Override{}},
		Options: map[string]any{
			"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
			"colorMode":     "value", "graphMode": "area", "justifyMode": "auto", "textMode": "auto",
		},
	}
}

// stateTimeline shows discrete states (mapped values) over time.
func stateTimeline(title string, mappings []grafana.ValueMapping, targets ...grafana.Target) grafana.Panel {
	return grafana.Panel{
		Type: grafana.TypeStateTimeline, Title: title, Targets: targets,
		FieldConfig: grafana.FieldConfig{Defaults: grafana.FieldDefaults{
			Unit: "none", Mappings: mappings, Color: &grafana.FieldColor{Mode: "thresholds"},
			Thresholds: grafana.Steps("green"),
		}, Overrides: []grafana.Override{}},
		Options: map[string]any{
			"showValue": "auto", "mergeValues": true, "rowHeight": 0.9,
			"legend": map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": true},
		},
	}
}

// valueMap maps exact values to text and colour, in order.
func valueMap(pairs ...[3]string) []grafana.ValueMapping {
	opts := map[string]grafana.MappingResult{}
	for i, p := range pairs {
		opts[p[0]] = grafana.MappingResult{Text: p[1], Color: p[2], Index: i}
	}
	return []grafana.ValueMapping{{Type: "value", Options: opts}}
}

// thresholdLines draws the thresholds of a timeseries panel as lines.
func thresholdLines(p *grafana.Panel, th *grafana.Thresholds) {
	p.FieldConfig.Defaults.Thresholds = th
	p.FieldConfig.Defaults.Custom["thresholdsStyle"] = map[string]any{"mode": "line+area"}
}

// newDashboard fills the fields every generated dashboard shares,
// including the datasource variable.
func newDashboard(uid, title string, tags []string, from string, b *board, vars ...grafana.Variable) *grafana.Dashboard {
	list := append([]grafana.Variable{{
		Name: "datasource", Label: "Data source", Type: "datasource", Query: "prometheus",
		Current: &grafana.VariableValue{Text: "default", Value: "default"},
	}}, vars...)
	return &grafana.Dashboard{
		UID: uid, Title: title, Tags: tags, Timezone: "browser", Editable: true,
		GraphTooltip: 1, SchemaVersion: grafana.SchemaVersion, Version: 1, Refresh: "1m",
		Time:        grafana.TimeRange{From: from, To: "now"},
		Templating:  grafana.Templating{List: list},
		Annotations: grafana.Annotations{List: []any{}},
		Links:       []grafana.Link{},
		Panels:      b.panels,
	}
}
