package lint

import (
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/obsd-dev/obsd/slo/spec"
)

// Bounds of the usual ranges; outside them the lint warns.
const (
	// MinObjective: an objective under it is almost surely a mistake
	// (a ratio written where a percent is expected): an error.
	MinObjective = 0.5
	// LowObjective: under it users cannot rely on the service: a warning.
	LowObjective = 0.9
	// MinBudget: a period whose error budget is shorter than this much
	// full outage leaves no room for a single deploy or incident: a warning.
	MinBudget = 5 * time.Minute
	// MinPeriod and MaxPeriod bound a useful rolling period.
	MinPeriod = 7 * 24 * time.Hour
	MaxPeriod = 90 * 24 * time.Hour
)

// check runs every check on one valid SLO.
func (l *linter) check(s *spec.SLO) {
	l.checkObjective(s)
	l.checkPeriod(s)
	if s.Objective >= MinObjective { // else every window reports the objective again
		l.checkSeverity(s, "page", fieldPage, s.Alerting.Page)
		l.checkSeverity(s, "ticket", fieldTicket, s.Alerting.Ticket)
	}
	l.checkRunbook(s)
	l.checkSLI(s)
	if why := s.ExportOnly(); why != "" {
		l.add(s, fieldName, Warning, "%s; the slo connector refuses it (obsd slo rules exports it)", why)
	}
}

func pct(r float64) string { return strconv.FormatFloat(r*100, 'g', 10, 64) + "%" }

func (l *linter) checkObjective(s *spec.SLO) {
	switch {
	case s.Objective < MinObjective:
		l.add(s, fieldObjective, Error, "objective %s is under %s: a ratio written where a percent is expected (obsd's 'objective' is a percent, e.g. 99.9)?", pct(s.Objective), pct(MinObjective))
	case s.Objective < LowObjective:
		l.add(s, fieldObjective, Warning, "objective %s is unusually low: users cannot rely on a service that fails more than 1 in 10 times", pct(s.Objective))
	}
	if budget := time.Duration((1 - s.Objective) * float64(s.Period)); budget < MinBudget {
		l.add(s, fieldObjective, Warning, "objective %s leaves an error budget of %s of full outage per %s: one deploy or incident exhausts it", pct(s.Objective), budget.Round(time.Second), days(s.Period))
	}
}

func (l *linter) checkPeriod(s *spec.SLO) {
	if s.Calendar != nil {
		return
	}
	switch {
	case s.Period < MinPeriod:
		l.add(s, fieldPeriod, Warning, "period %s is short: the budget forgets incidents within days; 7d to 90d is usual (28d or 30d)", days(s.Period))
	case s.Period > MaxPeriod:
		l.add(s, fieldPeriod, Warning, "period %s is long: the budget reacts to an improvement or a regression only after months; 7d to 90d is usual", days(s.Period))
	}
}

// dur formats a duration as Prometheus does ("1h", "5m", "1d").
func dur(d time.Duration) string { return model.Duration(d).String() }

// days formats whole days as "28d".
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}

// checkSeverity checks each window pair against the period and objective.
func (l *linter) checkSeverity(s *spec.SLO, name string, f field, sev spec.Severity) {
	if !sev.Enabled {
		return
	}
	if len(sev.Windows) == 0 {
		l.add(s, f, Error, "%s alerts are enabled but have no window pair that fits the %s period: they can never fire", name, days(s.Period))
		return
	}
	budget := 1 - s.Objective
	if sev.For > 0 && sev.For >= sev.Windows[0].Long {
		l.add(s, f, Warning, "%s 'for' %s is not shorter than the shortest long window %s: the alert fires only after the damage is done",
			name, dur(sev.For), dur(sev.Windows[0].Long))
	}
	for _, w := range sev.Windows {
		if w.For > 0 && w.For >= w.Long {
			l.add(s, f, Warning, "%s window %s/%s: its 'for' %s is not shorter than its long window: the pair fires only after the damage is done",
				name, dur(w.Long), dur(w.Short), dur(w.For))
		}
	}
	if name == "page" && s.SLI.PromQL == nil && s.Alerting.MinEvents < 1 {
		l.add(s, f, Warning, "'min_events' %g lets one failed request at a quiet hour page: keep it at 10 or more", s.Alerting.MinEvents)
	}
	for _, w := range sev.Windows {
		switch {
		case w.Long > s.Period:
			l.add(s, f, Error, "%s window %s/%s: the long window is longer than the %s period", name, dur(w.Long), dur(w.Short), days(s.Period))
		case w.Short >= w.Long:
			l.add(s, f, Error, "%s window %s/%s: the short window must be shorter than the long one", name, dur(w.Long), dur(w.Short))
		}
		if w.Factor*budget > 1+1e-9 {
			l.add(s, f, Error, "%s window %s/%s can never fire: burn rate %g × error budget %g = %g, more than every event failing",
				name, dur(w.Long), dur(w.Short), w.Factor, round(budget), round(w.Factor*budget))
		} else if name == "page" && w.Factor <= 1 {
			l.add(s, f, Warning, "page window %s/%s at burn rate %g pages while the budget would still last the whole period; scale the windows to the period",
				dur(w.Long), dur(w.Short), w.Factor)
		}
	}
}

func round(v float64) float64 { return math.Round(v*1e9) / 1e9 }

func (l *linter) checkRunbook(s *spec.SLO) {
	a := s.Alerting
	if !a.Page.Enabled || a.RunbookURL != "" || a.Annotations["runbook_url"] != "" || a.Page.Annotations["runbook_url"] != "" {
		return
	}
	if l.opt.AllowMissingRunbook {
		return
	}
	// obsd loads and evaluates such an SLO correctly: a warning, an error
	// only with --strict.
	sev := Warning
	if l.opt.Strict {
		sev = Error
	}
	l.add(s, fieldAlerting, sev, "page alerts have no runbook URL: whoever is paged at night needs one (set it, or pass --allow-missing-runbook)")
}

// causeRe matches metric names of resources (causes) rather than what
// users feel (symptoms: errors, latency).
var causeRe = regexp.MustCompile(`^(node_|machine_|container_(cpu|memory|fs)_|kube_node_|go_memstats_|process_(cpu|resident|virtual)_)|(^|_)(cpu|memory|mem|disk|filesystem|fs|load[0-9]*|swap|inode|heap|gc)(_|$)`)

func (l *linter) checkSLI(s *spec.SLO) {
	sli := s.SLI
	switch {
	case sli.Metric != nil:
		m := sli.Metric
		l.checkSelector(s, fieldBad, "bad", m.Bad)
		l.checkSelector(s, fieldTotal, "total", m.Total)
		l.checkBadTotal(s, m)
		l.checkGroupBy(s, fieldMetricGroupBy, m.GroupBy)
	case sli.Latency != nil:
		l.checkSelector(s, fieldLatency, "histogram", sli.Latency.Histogram)
		l.checkGroupBy(s, fieldMetricGroupBy, sli.Latency.GroupBy)
	case sli.Logs != nil:
		l.checkGroupBy(s, fieldLogsGroupBy, s.GroupBy())
		l.checkMatchers(s, fieldLogs, "logs total "+sli.Logs.Total.Text, logMatchers(sli.Logs.Total))
		l.checkMatchers(s, fieldLogs, "logs bad "+sli.Logs.Bad.Text, logMatchers(sli.Logs.Bad))
	}
}

// unboundedRe matches attribute names whose values are usually
// unbounded: ids, addresses, URLs, users, sessions.
var unboundedRe = regexp.MustCompile(`(?i)(^|[._])(id|uuid|guid|ip|addr|address|url|uri|user|session|trace|span|email|query|user_agent)$|(^|[._])(trace|span|request|session|user|customer)_?id$`)

// checkGroupBy warns on group_by attributes that look unbounded.
func (l *linter) checkGroupBy(s *spec.SLO, f field, names []string) {
	for _, n := range names {
		if unboundedRe.MatchString(n) {
			l.add(s, f, Warning, "group_by %q looks unbounded (ids, addresses, URLs, users): past %d values every new one lands in the overflow instance; group by a route, region or tier", n, s.Limit())
		}
	}
}

func logMatchers(sel spec.LogSelector) []*labels.Matcher {
	out := make([]*labels.Matcher, 0, len(sel.Matchers))
	for _, m := range sel.Matchers {
		if m.Matcher == nil {
			continue
		}
		c := *m.Matcher
		c.Name = m.Field.Name
		out = append(out, &c)
	}
	return out
}

func (l *linter) checkSelector(s *spec.SLO, f field, role string, sel spec.Selector) {
	if causeRe.MatchString(sel.MetricName) {
		l.add(s, f, Warning, "%s metric %s measures a cause (a resource), not a symptom users feel: build the SLI on errors or latency of requests", role, sel.MetricName)
	}
	l.checkMatchers(s, f, role+" selector "+sel.Text, sel.Matchers)
}

// checkMatchers reports matchers that no series can satisfy: a regex
// that matches nothing, or contradictory matchers on one label.
func (l *linter) checkMatchers(s *spec.SLO, f field, what string, ms []*labels.Matcher) {
	for i, a := range ms {
		if (a.Type == labels.MatchRegexp) && !regexCanMatch(a.Value) {
			l.add(s, f, Error, "%s can never match: regex %s matches no value", what, a)
			continue
		}
		for _, b := range ms[i+1:] {
			if a.Name == b.Name && contradict(a, b) {
				l.add(s, f, Error, "%s can never match: %s and %s contradict each other", what, a, b)
			}
		}
	}
}

// contradict reports whether no value satisfies both matchers; it
// decides when one side admits a finite set of values (an equality, or a
// regex that is a literal or an alternation of literals such as
// "200|201") by evaluating the other side on each, and leaves other
// pairs alone.
func contradict(a, b *labels.Matcher) bool {
	vals, ok := finiteValues(a)
	if !ok {
		a, b = b, a
		if vals, ok = finiteValues(a); !ok {
			return false
		}
	}
	for _, v := range vals {
		if b.Matches(v) {
			return false
		}
	}
	return true
}

// finiteValues returns the values a matcher admits when they are few.
func finiteValues(m *labels.Matcher) ([]string, bool) {
	switch m.Type {
	case labels.MatchEqual:
		return []string{m.Value}, true
	case labels.MatchRegexp:
		re, err := syntax.Parse(m.Value, syntax.Perl)
		if err != nil {
			return nil, false
		}
		return literals(re.Simplify())
	}
	return nil, false
}

// maxLiterals bounds the values a regex is expanded into.
const maxLiterals = 64

func literals(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpCapture:
		return literals(re.Sub[0])
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == maxLiterals {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpConcat: // the parser factors "200|201" into "20[01]"
		out := []string{""}
		for _, sub := range re.Sub {
			l, ok := literals(sub)
			if !ok || len(out)*len(l) > maxLiterals {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(l))
			for _, p := range out {
				for _, q := range l {
					next = append(next, p+q)
				}
			}
			out = next
		}
		return out, true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l, ok := literals(sub)
			if !ok {
				return nil, false
			}
			if out = append(out, l...); len(out) > maxLiterals {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// regexCanMatch reports whether a (fully anchored) regex matches at
// least one string; it detects empty character classes and the like.
func regexCanMatch(expr string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return true // the loader has already refused it
	}
	return canMatch(re.Simplify())
}

func canMatch(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch:
		return false
	case syntax.OpCharClass:
		return len(re.Rune) > 0
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !canMatch(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if canMatch(s) {
				return true
			}
		}
		return false
	case syntax.OpCapture, syntax.OpPlus:
		return canMatch(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || canMatch(re.Sub[0])
	}
	return true
}

// checkBadTotal compares the bad and total selectors of a ratio.
func (l *linter) checkBadTotal(s *spec.SLO, m *spec.MetricRatio) {
	bad, total := m.Bad, m.Total
	if bad.MetricName != total.MetricName {
		l.add(s, fieldBad, Warning, "bad counts %s but total counts %s: unless every bad event is also counted in total, the error ratio is wrong (it can pass 100%%)", bad.MetricName, total.MetricName)
		return
	}
	if spec.SameMatchers(bad.Matchers, total.Matchers) {
		l.add(s, fieldBad, Error, "bad selects the same series as total: every event is bad")
		return
	}
	for _, t := range total.Matchers {
		if !spec.HasMatcher(bad.Matchers, t) {
			l.add(s, fieldBad, Warning, "bad lacks total's matcher %s: bad events outside total inflate the error ratio", t)
		}
	}
}
