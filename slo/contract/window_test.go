package contract

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestWindowLabel(t *testing.T) {
	cases := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"minutes", 5 * time.Minute, "5m"},
		{"an hour and a half mixes units", 90 * time.Minute, "1h30m"},
		{"a day is written in days", 24 * time.Hour, "1d"},
		{"three days", 72 * time.Hour, "3d"},
		{"four weeks", 28 * 24 * time.Hour, "4w"},
		{"thirty days", 30 * 24 * time.Hour, "30d"},
		{"seconds", 90 * time.Second, "1m30s"},
		{"zero", 0, "0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := WindowLabel(tc.d); got != tc.want {
				t.Errorf("WindowLabel(%s) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

// The rules select window sums by WindowLabel; Prometheus users read the
// same windows in model.Duration's form, so the two must agree.
func TestWindowLabelIsPrometheusDurationSyntax(t *testing.T) {
	for _, d := range []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
		6 * time.Hour, 24 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour, 31 * 24 * time.Hour, 92 * 24 * time.Hour, 1500 * time.Millisecond} {
		if got, want := WindowLabel(d), model.Duration(d).String(); got != want {
			t.Errorf("WindowLabel(%s) = %q, Prometheus writes %q", d, got, want)
		}
	}
	for i, w := range Windows[:len(Windows)-1] {
		d := []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}[i]
		if WindowLabel(d) != w {
			t.Errorf("Windows[%d] = %q but WindowLabel(%s) = %q", i, w, d, WindowLabel(d))
		}
	}
}
