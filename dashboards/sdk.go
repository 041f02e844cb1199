package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// This file holds the few conventions every generated panel shares, on top
// of grafana-foundation-sdk's builders: the datasource variable, queries
// with their refIds, thresholds, value mappings and panel defaults.

// datasourceVariable is the name of the datasource variable every panel,
// query and query variable reads its datasource from.
const datasourceVariable = "datasource"

// datasourceRef is the datasource of every generated panel and query: the
// Prometheus datasource the "datasource" variable selects.
var datasourceRef = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + datasourceVariable + "}")}

// rangeQuery is a range query drawn over time, with a legend.
func rangeQuery(expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().Expr(expr).Range().Format(prometheus.PromQueryFormatTimeSeries)
	if legend != "" {
		q.LegendFormat(legend)
	}
	return q
}

// instantQuery is an instant query formatted as a table.
func instantQuery(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).Instant().Format(prometheus.PromQueryFormatTable)
}

// targets gives qs the refIds A, B, C… in order and the datasource variable.
func targets(qs []*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(qs))
	for i, q := range qs {
		out = append(out, q.RefId(string(rune('A'+i))).Datasource(datasourceRef))
	}
	return out
}

// step is one threshold step: color from value upwards.
type step struct {
	value float64
	color string
}

// thresholdSteps are absolute thresholds: base colour, then steps (the
// base step's value is null, minus infinity).
func thresholdSteps(base string, steps ...step) []dashboard.Threshold {
	out := []dashboard.Threshold{{Color: base}}
	for _, s := range steps {
		out = append(out, dashboard.Threshold{Value: cog.ToPtr(s.value), Color: s.color})
	}
	return out
}

// thresholds is thresholdSteps as the SDK's builder, for panels.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(thresholdSteps(base, steps...))
}

// thresholdsValue is thresholdSteps as a value, for field overrides.
func thresholdsValue(base string, steps ...step) dashboard.ThresholdsConfig {
	return dashboard.ThresholdsConfig{Mode: dashboard.ThresholdsModeAbsolute, Steps: thresholdSteps(base, steps...)}
}

// mapping maps one exact value to a text and a colour.
type mapping struct{ value, text, color string }

// valueMap maps exact values to text and colour, in order.
func valueMap(ms ...mapping) []dashboard.ValueMapping {
	opts := make(map[string]dashboard.ValueMappingResult, len(ms))
	for i, m := range ms {
		opts[m.value] = dashboard.ValueMappingResult{Text: cog.ToPtr(m.text), Color: cog.ToPtr(m.color), Index: cog.ToPtr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

func colorMode(mode dashboard.FieldColorModeId) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(mode)
}

func vizLegend() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(true)
}

func lastNotNull() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Fields("").Values(false)
}

// timeseriesPanel is a line panel with a unit, a shared tooltip and a legend.
func timeseriesPanel(title, unit string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Datasource(datasourceRef).Targets(targets(qs)).
		Unit(unit).ColorScheme(colorMode(dashboard.FieldColorModeIdPaletteClassic)).
		DrawStyle(common.GraphDrawStyleLine).LineWidth(1).FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(false)}).
		Legend(vizLegend()).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

// withThresholdLines draws p's thresholds as lines (and the area beyond them).
func withThresholdLines(p *timeseries.PanelBuilder, th *dashboard.ThresholdsConfigBuilder) *timeseries.PanelBuilder {
	return p.Thresholds(th).ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLineAndArea))
}

// statPanel is a single-value panel with a unit and threshold colours
// (all green when th is nil) showing the last value.
func statPanel(title, unit string, th *dashboard.ThresholdsConfigBuilder, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	if th == nil {
		th = thresholds("green")
	}
	return stat.NewPanelBuilder().Title(title).Datasource(datasourceRef).Targets(targets(qs)).
		Unit(unit).Thresholds(th).ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(lastNotNull()).ColorMode(common.BigValueColorModeValue).GraphMode(common.BigValueGraphModeArea).
		JustifyMode(common.BigValueJustifyModeAuto).TextMode(common.BigValueTextModeAuto).Orientation(common.VizOrientationAuto)
}

// gaugePanel is a gauge from 0 to 1 showing the last value.
func gaugePanel(title, unit string, th *dashboard.ThresholdsConfigBuilder, qs ...*prometheus.DataqueryBuilder) *gauge.PanelBuilder {
	return gauge.NewPanelBuilder().Title(title).Datasource(datasourceRef).Targets(targets(qs)).
		Unit(unit).Min(0).Max(1).Thresholds(th).ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(lastNotNull()).ShowThresholdMarkers(true).ShowThresholdLabels(false).Orientation(common.VizOrientationAuto)
}

// stateTimelinePanel shows discrete states (mapped values) over time.
func stateTimelinePanel(title string, mappings []dashboard.ValueMapping, qs ...*prometheus.DataqueryBuilder) *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().Title(title).Datasource(datasourceRef).Targets(targets(qs)).
		Unit("none").Mappings(mappings).ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).Thresholds(thresholds("green")).
		ShowValue(common.VisibilityModeAuto).MergeValues(true).RowHeight(0.9).Legend(vizLegend()).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone))
}

// tablePanel is a table of instant queries, sorted by one column.
func tablePanel(title, unit string, sortBy string, desc bool, qs ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Datasource(datasourceRef).Targets(targets(qs)).
		Unit(unit).Thresholds(thresholds("green")).ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		ShowHeader(true).Footer(common.NewTableFooterOptionsBuilder().Show(false).CountRows(false)).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(sortBy).Desc(desc)})
}

// prop is one field option of an override.
func prop(id string, v any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: v}
}

// transformation is one data transformation with its options.
func transformation(id string, options map[string]any) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: id, Options: options}
}

// link is a dashboard link to a URL. The SDK gives every link the
// placement "inControlsMenu", which newer Grafana versions show in the
// controls dropdown instead of the dashboard's header: finish removes it
// so the links stay in the header as in every other Grafana version.
func link(title, url, icon string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).Type(dashboard.DashboardLinkTypeLink).Url(url).Icon(icon).KeepTime(true)
}

// option is a variable option or current value with the same text and value.
func option(v string, selected bool) dashboard.VariableOption {
	return dashboard.VariableOption{
		Selected: cog.ToPtr(selected),
		Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(v)},
		Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(v)},
	}
}

// newDashboard starts a dashboard with what every generated one shares:
// uid, title, tags, default time range, one-minute refresh, shared
// crosshair and the datasource variable first.
func newDashboard(uid, title string, tags []string, from string) *dashboard.DashboardBuilder {
	ds := dashboard.NewDatasourceVariableBuilder(datasourceVariable).Label("Data source").Type("prometheus").
		Hide(dashboard.VariableHideDontHide).Current(option("default", false))
	return dashboard.NewDashboardBuilder(title).Uid(uid).Tags(tags).Timezone("browser").Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).Version(1).Refresh("1m").Time(from, "now").
		WithVariable(ds)
}

// finish builds d, numbers its panels 1, 2, 3… in order (Grafana needs an
// id unique in the dashboard) and takes the SDK's default placement off
// its links (see link).
func finish(uid string, d *dashboard.DashboardBuilder) (dashboard.Dashboard, error) {
	out, err := d.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("could not build dashboard %q: %w", uid, err)
	}
	for i := range out.Panels {
		id := uint32(i + 1)
		switch p := out.Panels[i]; {
		case p.Panel != nil:
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		default:
			return dashboard.Dashboard{}, fmt.Errorf("dashboard %q: panel %d is neither a panel nor a row", uid, i+1)
		}
	}
	for i := range out.Links {
		out.Links[i].Placement = nil
	}
	return out, nil
}
