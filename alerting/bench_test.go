package alerting

import (
	"testing"

	"github.com/prometheus/common/model"
)

func BenchmarkBuildAlert(b *testing.B) {
	c, err := compileTemplates(TemplatesConfig{
		Summary: DefaultSummaryTemplate, Description: DefaultDescriptionTemplate,
		RunbookURL: "https://runbooks.example/{{ .Service }}/{{ .SLO }}", DashboardURL: "https://grafana.example/d/{{ .SLO }}",
	})
	if err != nil {
		b.Fatal(err)
	}
	bl := &builder{alertName: DefaultAlertName, tmpl: c}
	tr := sampleTransition
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bl.build(&tr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRouteReceivers(b *testing.B) {
	root, err := NewRoute(RouteConfig{Receiver: "d", Routes: []RouteConfig{
		{Matchers: []string{`severity="page"`}, Receiver: "a", Continue: true},
		{Matchers: []string{`{team=~"pay.*", severity="page"}`}, Receiver: "b"},
		{Matchers: []string{`severity="ticket"`}, Receiver: "c"},
	}}, map[string]DestinationConfig{"a": {}, "b": {}, "c": {}, "d": {}})
	if err != nil {
		b.Fatal(err)
	}
	ls := model.LabelSet{"alertname": "SLOErrorBudgetBurn", "severity": "page", "team": "payments", "slo": "x", "service": "y"}
	b.ReportAllocs()
	for b.Loop() {
		if len(root.Receivers(ls)) != 2 {
			b.Fatal("wrong receivers")
		}
	}
}

func BenchmarkOutboxPush(b *testing.B) {
	ob, _, err := openOutbox(b.TempDir(), 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	batch := []Alert{obAlert("a"), obAlert("b")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ob.push(batch); err != nil {
			b.Fatal(err)
		}
		h, _ := ob.head()
		ob.remove(h.seq)
	}
}

func BenchmarkDecodeBatch(b *testing.B) {
	data, err := encodeBatch([]Alert{obAlert("a"), obAlert("b"), obAlert("c")})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeBatch(data); err != nil {
			b.Fatal(err)
		}
	}
}
