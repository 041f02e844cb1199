package openslo

import (
	"fmt"
	"sort"
	"time"

	raw "github.com/obsd-dev/obsd/slo/formats/openslo/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

// oslSeverity collects what the policies of one SLO say about one severity.
type oslSeverity struct {
	windows []spec.WindowPair
	forDur  *time.Duration
	targets map[string]bool
}

// alerting maps metadata.annotations and spec.alertPolicies. Without
// policies an SLO keeps obsd's default window pairs for both severities;
// with policies each condition adds one window pair to its severity and a
// severity without conditions is disabled.
func (c *oslConv) alerting(d *oslDoc, r *raw.SLODoc, period time.Duration) spec.Alerting {
	a := spec.Alerting{Name: r.Metadata.Name, MinEvents: spec.DefaultMinEvents}
	for _, k := range sortedKeys(r.Metadata.Annotations) {
		v := r.Metadata.Annotations[k]
		switch {
		case k == "runbook_url":
			a.RunbookURL = v
		case !spec.ValidLabelName(k):
			c.addf(d, "metadata.annotations", "key %q is not a valid alert annotation name (want %s)", k, spec.LabelNameSyntax)
		default:
			if a.Annotations == nil {
				a.Annotations = map[string]string{}
			}
			a.Annotations[k] = v
		}
	}
	if len(r.Spec.AlertPolicies) == 0 {
		page, ticket := spec.DefaultWindowPairs(period)
		a.Page = spec.Severity{Enabled: true, Windows: page}
		a.Ticket = spec.Severity{Enabled: true, Windows: ticket}
		return a
	}
	sev := map[string]*oslSeverity{"page": {}, "ticket": {}}
	for i := range r.Spec.AlertPolicies {
		c.policy(d, fmt.Sprintf("spec.alertPolicies[%d]", i), &r.Spec.AlertPolicies[i], period, sev)
	}
	a.Page = sev["page"].severity()
	a.Ticket = sev["ticket"].severity()
	return a
}

func (s *oslSeverity) severity() spec.Severity {
	out := spec.Severity{Enabled: len(s.windows) > 0, Windows: s.windows}
	if s.forDur != nil {
		out.For = *s.forDur
	}
	if len(s.targets) > 0 {
		out.Labels = map[string]string{"notification_targets": joinNames(s.targets)}
	}
	sort.SliceStable(out.Windows, func(i, j int) bool { return out.Windows[i].Long < out.Windows[j].Long })
	return out
}

// policy maps one alert policy, inline or referenced.
func (c *oslConv) policy(d *oslDoc, path string, p *raw.PolicyDoc, period time.Duration, sev map[string]*oslSeverity) {
	inline := p.Spec != nil || p.Metadata != nil || p.Kind != ""
	switch {
	case p.PlainName != "":
		c.addf(d, path, "is the plain string %q: OpenSLO v1 wants an inline AlertPolicy or a reference: "+
			"write '- alertPolicyRef: %s' with a document of kind: AlertPolicy named %q", p.PlainName, p.PlainName, p.PlainName)
		return
	case p.AlertPolicyRef != "" && inline:
		c.addf(d, path, "must have 'alertPolicyRef' or an inline policy, not both")
		return
	case p.AlertPolicyRef != "":
		ref := c.set.ref(kindPolicy, p.AlertPolicyRef)
		if ref == nil {
			c.addf(d, path+".alertPolicyRef", "names no AlertPolicy document %q in the loaded files", p.AlertPolicyRef)
			return
		}
		c.policySpec(ref, "spec", &ref.value.(*raw.PolicyTopDoc).Spec, period, sev)
	case p.Spec == nil:
		c.addf(d, path, "must have 'alertPolicyRef' or an inline policy with 'spec'")
	default:
		oslInlineKind(c, d, path, kindPolicy, p.Kind, p.APIVersion)
		c.policySpec(d, path+".spec", p.Spec, period, sev)
	}
}

func (c *oslConv) policySpec(d *oslDoc, path string, p *raw.PolicySpec, period time.Duration, sev map[string]*oslSeverity) {
	if p.AlertWhenNoData != nil && *p.AlertWhenNoData {
		c.addf(d, path+".alertWhenNoData", "true is not supported: obsd alerts on burn rates only (absent data is obsd's own self-monitoring alert)")
	}
	if p.AlertWhenBreaching != nil && !*p.AlertWhenBreaching {
		c.addf(d, path+".alertWhenBreaching", "false is not supported: a policy that never alerts on a breach has nothing to map; remove it")
	}
	if len(p.Conditions) != 1 {
		c.addf(d, path+".conditions", "must have exactly one condition, got %d", len(p.Conditions))
		return
	}
	name, s := c.condition(d, path+".conditions[0]", &p.Conditions[0], period)
	if s == nil {
		return
	}
	got := sev[name]
	got.windows = append(got.windows, s.windows...)
	// Each condition keeps its alertAfter as its pair's For; the
	// severity's For is the shortest, for pairs without one.
	if got.forDur == nil || *s.forDur < *got.forDur {
		got.forDur = s.forDur
	}
	if got.targets == nil {
		got.targets = map[string]bool{}
	}
	for i := range p.NotificationTargets {
		if t := c.target(d, fmt.Sprintf("%s.notificationTargets[%d]", path, i), &p.NotificationTargets[i]); t != "" {
			got.targets[t] = true
		}
	}
}

// target returns a notification target's name, the value of the alerts'
// notification_targets label.
func (c *oslConv) target(d *oslDoc, path string, t *raw.TargetDoc) string {
	inline := t.Spec != nil || t.Metadata != nil || t.Kind != ""
	switch {
	case t.TargetRef != "" && inline:
		c.addf(d, path, "must have 'targetRef' or an inline target, not both")
	case t.TargetRef != "":
		if c.set.ref(kindTarget, t.TargetRef) == nil {
			c.addf(d, path+".targetRef", "names no AlertNotificationTarget document %q in the loaded files", t.TargetRef)
			return ""
		}
		return t.TargetRef
	case t.Metadata == nil || t.Metadata.Name == "":
		c.addf(d, path+".metadata.name", "is required for an inline notification target")
	default:
		oslInlineKind(c, d, path, kindTarget, t.Kind, t.APIVersion)
		return t.Metadata.Name
	}
	return ""
}

// condition maps one burn-rate condition onto a window pair of its
// severity: long = lookbackWindow, short = long/12, factor = threshold.
func (c *oslConv) condition(d *oslDoc, path string, r *raw.ConditionDoc, period time.Duration) (string, *oslSeverity) {
	inline := r.Spec != nil || r.Metadata != nil || r.Kind != ""
	var cs *raw.ConditionSpec
	switch {
	case r.ConditionRef != "" && inline:
		c.addf(d, path, "must have 'conditionRef' or an inline condition, not both")
		return "", nil
	case r.ConditionRef != "":
		ref := c.set.ref(kindCondition, r.ConditionRef)
		if ref == nil {
			c.addf(d, path+".conditionRef", "names no AlertCondition document %q in the loaded files", r.ConditionRef)
			return "", nil
		}
		d, path, cs = ref, "spec", &ref.value.(*raw.ConditionTopDoc).Spec
	case r.Spec == nil:
		c.addf(d, path, "must have 'conditionRef' or an inline condition with 'spec'")
		return "", nil
	default:
		oslInlineKind(c, d, path, kindCondition, r.Kind, r.APIVersion)
		path, cs = path+".spec", r.Spec
	}
	n := len(c.errs)
	var name string
	switch cs.Severity {
	case "page", "critical":
		name = "page"
	case "ticket", "warning":
		name = "ticket"
	default:
		c.addf(d, path+".severity", "must be page or critical (obsd's page) or ticket or warning (obsd's ticket), got %q", cs.Severity)
	}
	cond := cs.Condition
	cp := path + ".condition"
	if cond.Kind != "" && cond.Kind != "burnrate" {
		c.addf(d, cp+".kind", "must be burnrate, got %q", cond.Kind)
	}
	if cond.Op != "" && cond.Op != "gte" && cond.Op != "gt" {
		c.addf(d, cp+".op", "must be gte or gt (a burn rate at or over the threshold alerts), got %q", cond.Op)
	}
	if cond.Threshold == nil || !(*cond.Threshold > 0) {
		c.addf(d, cp+".threshold", "must be a burn rate greater than zero")
	}
	long, err := oslDuration(cond.LookbackWindow)
	switch {
	case err != nil:
		c.addf(d, cp+".lookbackWindow", "%v", err)
	case long < 12*time.Minute || long > period:
		c.addf(d, cp+".lookbackWindow", "must be between 12m (its short window, a twelfth, is at least 1m) and the period %s, got %s", period, cond.LookbackWindow)
	}
	var after time.Duration
	if cond.AlertAfter != "" {
		if after, err = oslDuration(cond.AlertAfter); err != nil {
			c.addf(d, cp+".alertAfter", "%v", err)
		}
	}
	if len(c.errs) > n {
		return "", nil
	}
	return name, &oslSeverity{windows: []spec.WindowPair{{Long: long, Short: long / 12, Factor: *cond.Threshold, For: after}}, forDur: &after}
}
