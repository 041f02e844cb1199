package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
)

func TestSLOConvert(t *testing.T) {
	out := filepath.Join(t.TempDir(), "slos.yaml")
	var stdout, stderr bytes.Buffer
	require.NoError(t, runConvert(&stdout, &stderr, []string{"../../slo/formats/sloth/testdata/crd.yaml", "../../slo/formats/sloth/testdata/lenient.yaml"}, convertFlags{out: out}))
	assert.Empty(t, stdout.String())
	assert.Contains(t, stderr.String(), "warning: ../../slo/formats/sloth/testdata/lenient.yaml: slo \"api-availability\": 'alerting.pageAlert' is ignored")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(data), "version: obsd/v1\n")
	slos, err := formats.Load(out)
	require.NoError(t, err, "the converted file loads as obsd/v1")
	var names []string
	for _, s := range slos {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"checkout-requests-availability", "search-latency", "api-availability"}, names)
}

func TestSLOConvertRefusesExportOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := runConvert(&stdout, &stderr, []string{"../../slo/formats/sloth/testdata/raw.yaml"}, convertFlags{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `slo "payments-queue-health": 'sli.raw.error_ratio_query' can only be exported`)
	assert.Empty(t, stdout.String())
}

func TestSLOConvertIsRegistered(t *testing.T) {
	c, _, err := newSLOCommand().Find([]string{"convert"})
	assert.NoError(t, err)
	assert.Equal(t, "convert", c.Name())
}
