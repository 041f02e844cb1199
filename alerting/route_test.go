package alerting

import (
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
)

func TestRouteReceivers(t *testing.T) {
	dests := map[string]DestinationConfig{"default": {}, "oncall": {}, "tickets": {}, "payments": {}, "audit": {}, "eu": {}}
	tree := RouteConfig{
		Receiver: "default",
		Routes: []RouteConfig{
			{Matchers: []string{`severity="page"`}, Receiver: "audit", Continue: true},
			{Matchers: []string{`severity="page"`}, Receiver: "oncall", Routes: []RouteConfig{
				{Matchers: []string{`{team=~"pay.*"}`}, Receiver: "payments"},
				{Matchers: []string{`region="eu"`}},
			}},
			{Matchers: []string{`severity="ticket"`, `team!="infra"`}, Receiver: "tickets"},
			{Matchers: []string{`severity="ticket"`}, Receiver: "eu"},
		},
	}
	root, err := NewRoute(tree, dests)
	require.NoError(t, err)
	tests := []struct {
		name   string
		labels model.LabelSet
		want   []string
	}{
		{"an alert no route matches goes to the default receiver",
			model.LabelSet{"severity": "info"}, []string{"default"}},
		{"continue lets a page reach audit and then the on-call route",
			model.LabelSet{"severity": "page"}, []string{"audit", "oncall"}},
		{"a matching child route wins over its parent",
			model.LabelSet{"severity": "page", "team": "payments"}, []string{"audit", "payments"}},
		{"a child route without a receiver inherits its parent's",
			model.LabelSet{"severity": "page", "region": "eu"}, []string{"audit", "oncall"}},
		{"the first matching sibling without continue stops the walk",
			model.LabelSet{"severity": "ticket", "team": "web"}, []string{"tickets"}},
		{"a negative matcher sends the excluded team to the next sibling",
			model.LabelSet{"severity": "ticket", "team": "infra"}, []string{"eu"}},
		{"a regex matcher is anchored like Alertmanager's",
			model.LabelSet{"severity": "page", "team": "repay"}, []string{"audit", "oncall"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, root.Receivers(tt.labels))
		})
	}
}

func TestRouteDeduplicatesReceivers(t *testing.T) {
	root, err := NewRoute(RouteConfig{Receiver: "a", Routes: []RouteConfig{
		{Matchers: []string{`x="1"`}, Receiver: "a", Continue: true},
		{Matchers: []string{`x="1"`}, Receiver: "a"},
	}}, map[string]DestinationConfig{"a": {}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, root.Receivers(model.LabelSet{"x": "1"}))
	assert.Contains(t, root.String(), "continue=true")
}

func TestRouteRejectsContinueOnRoot(t *testing.T) {
	_, err := NewRoute(RouteConfig{Receiver: "a", Continue: true}, map[string]DestinationConfig{"a": {}})
	require.ErrorContains(t, err, "'route::continue' cannot be set on the root route")
}

func TestConfigReceiversRouteLikeAManager(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Route = RouteConfig{Receiver: "oncall", Routes: []RouteConfig{{Receiver: "drills", Matchers: []string{`gameday="true"`}}}}
	cfg.Destinations = map[string]DestinationConfig{
		"oncall": {Webhook: &WebhookConfig{URL: "http://127.0.0.1:9/oncall"}},
		"drills": {Webhook: &WebhookConfig{URL: "http://127.0.0.1:9/drills"}},
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   []string
	}{
		{"a real page goes to on-call", map[string]string{"team": "payments"}, []string{"oncall"}},
		{"a game-day page goes to the drill receiver", map[string]string{"gameday": "true"}, []string{"drills"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := contract.Transition{SLO: "a", Service: "svc", Labels: tt.labels, Severity: contract.SeverityPage, State: contract.StateFiring}
			got, err := cfg.Receivers(tr)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, "SLOErrorBudgetBurn", cfg.AlertLabels(tr)["alertname"])
		})
	}
}
