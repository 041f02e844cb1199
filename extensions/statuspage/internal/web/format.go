package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/obsd-dev/obsd/slo/status"
)

// funcs are the template helpers; each returns plain text.
var funcs = template.FuncMap{
	"pct":      pct,
	"burn":     burn,
	"tte":      tte,
	"dur":      human,
	"perSec":   perSec,
	"num":      func(v float64) string { return trimFloat(v, 4) },
	"clock":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"upper":    strings.ToUpper,
	"join":     strings.Join,
	"fill":     fill,
	"budgetLo": func(v float64) bool { return v < 0.25 },
}

// trimFloat formats v with at most digits significant digits.
func trimFloat(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', digits, 64)
}

// pct formats a ratio as a percentage with up to 4 significant digits.
func pct(v float64) string {
	p := v * 100
	if math.Abs(p) >= 1e4 {
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	}
	return trimFloat(p, 4) + "%"
}

// burn formats a burn rate as "14.4×".
func burn(w status.Window) string {
	if w.NoData {
		return "no data"
	}
	return trimFloat(w.BurnRate, 3) + "×"
}

// tte formats a time to exhaustion: "never" when not exhausting,
// "exhausted" at zero.
func tte(d status.Duration) string {
	switch {
	case d < 0:
		return "never"
	case d == 0:
		return "exhausted"
	}
	return human(d.Std())
}

// human formats a duration in its two largest units: "3d 4h", "2h 5m",
// "5m 3s", "42s".
func human(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	d = d.Round(time.Second)
	days, d := d/(24*time.Hour), d%(24*time.Hour)
	hours, d := d/time.Hour, d%time.Hour
	mins, d := d/time.Minute, d%time.Minute
	secs := d / time.Second
	pair := func(a time.Duration, au string, b time.Duration, bu string) string {
		if b == 0 {
			return fmt.Sprintf("%d%s", a, au)
		}
		return fmt.Sprintf("%d%s %d%s", a, au, b, bu)
	}
	switch {
	case days > 0:
		return pair(days, "d", hours, "h")
	case hours > 0:
		return pair(hours, "h", mins, "m")
	case mins > 0:
		return pair(mins, "m", secs, "s")
	}
	return fmt.Sprintf("%ds", secs)
}

// perSec formats an optional rate; nil is "–" (not reported).
func perSec(v *float64) string {
	if v == nil {
		return "–"
	}
	return trimFloat(*v, 3) + "/s"
}

// fill formats a queue's fill as "12 / 1000 (1.2%)".
func fill(size, capacity *float64) string {
	if size == nil {
		return "–"
	}
	if capacity == nil || *capacity <= 0 {
		return trimFloat(*size, 6)
	}
	return fmt.Sprintf("%s / %s (%s)", trimFloat(*size, 6), trimFloat(*capacity, 6), pct(*size / *capacity))
}
