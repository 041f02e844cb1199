package openslo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func FuzzLoadOpenSLO(f *testing.F) {
	for _, glob := range []string{"../testdata/openslo/*.yaml", "../testdata/openslo/valid/*.yaml", "../testdata/openslo/invalid/*.yaml"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewSet()
		s.Add("fuzz.yaml", data)
		slos, _ := s.Convert() // valid SLOs may sit next to errors of other documents
		for _, s := range slos {
			if !(s.Objective > 0 && s.Objective < 1) {
				t.Fatalf("accepted objective %v", s.Objective)
			}
			if s.SLI.Metric == nil && s.SLI.Latency == nil {
				t.Fatalf("accepted an SLO without SLI: %+v", s)
			}
			if s.Period < time.Hour {
				t.Fatalf("accepted period %s", s.Period)
			}
		}
	})
}

func TestOpenSLOSetRefusesAliasBombs(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: s}\nspec:\n  description: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	s := NewSet()
	s.Add("bomb.yaml", []byte(b.String()))
	_, err := s.Convert()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bomb.yaml: ")
	assert.Contains(t, err.Error(), "YAML aliases expand too far")
}

// An SLO may reference an SLI of another file in a Set; Parse resolves
// within its file only.
func TestSetResolvesReferencesAcrossFiles(t *testing.T) {
	sli := []byte("apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: errors}\nspec:\n  ratioMetric:\n" +
		"    bad: {metricSource: {spec: {query: 'x_total{c=\"5\"}'}}}\n    total: {metricSource: {spec: {query: x_total}}}\n")
	slo := []byte("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: s\n  indicatorRef: errors\n" +
		"  objectives: [{target: 0.99}]\n")
	s := NewSet()
	s.Add("sli.yaml", sli)
	s.Add("slo.yaml", slo)
	slos, err := s.Convert()
	require.NoError(t, err)
	require.Len(t, slos, 1)
	assert.Equal(t, "x_total", slos[0].SLI.Metric.Total.MetricName)
	assert.Equal(t, "slo.yaml", slos[0].Source)

	_, err = Parse("slo.yaml", slo)
	assert.EqualError(t, err, `slo.yaml: document 1 (SLO "a"): 'spec.indicatorRef' names no SLI document "errors" in the loaded files`)
	assert.True(t, Is(slo))
	assert.False(t, Is([]byte("version: obsd/v1\napiVersion: openslo/v1\n")), "a version key is not OpenSLO")
}
