package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

var update = flag.Bool("update", false, "rewrite the golden dashboards in generated/")

// goldenSLOs are edge-case SLOs most tests use; their output is kept in
// testdata/golden, the example file's in generated/.
const goldenSLOs = "testdata/slos.yaml"

// goldenProvisionPath is the dashboards path written into the committed provisioning file.
const goldenProvisionPath = "/var/lib/grafana/dashboards/obsd"

func loadSLOs(t *testing.T) []*spec.SLO {
	t.Helper()
	slos, err := formats.Load(goldenSLOs)
	require.NoError(t, err)
	require.Len(t, slos, 3)
	return slos
}

func TestGoldenDashboards(t *testing.T) {
	tests := []struct {
		name, slos, dir string
	}{
		{"the committed dashboards of the example SLO file are up to date", "../slo.example.yaml", "generated"},
		{"the edge-case SLOs (hashed uid, custom windows, ticket disabled) give the same output", goldenSLOs, "testdata/golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slos, err := formats.Load(tt.slos)
			require.NoError(t, err)
			files, err := Generate(slos, goldenProvisionPath)
			require.NoError(t, err)
			if *update {
				require.NoError(t, os.RemoveAll(tt.dir))
				require.NoError(t, Write(tt.dir, files))
			}
			want := map[string]bool{}
			for _, f := range files {
				want[f.Name] = true
				got, err := os.ReadFile(filepath.Join(tt.dir, f.Name))
				require.NoError(t, err, "run `go test ./dashboards -run TestGoldenDashboards -update`")
				assert.True(t, bytes.Equal(f.Data, got), "%s/%s is out of date: run `go test ./dashboards -run TestGoldenDashboards -update`", tt.dir, f.Name)
			}
			entries, err := os.ReadDir(tt.dir)
			require.NoError(t, err)
			for _, e := range entries {
				assert.True(t, want[e.Name()], "%s in %s is no longer generated", e.Name(), tt.dir)
			}
		})
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	slos := loadSLOs(t)
	a, err := Generate(slos, "/d")
	require.NoError(t, err)
	// Reversed input order gives the same output.
	rev := []*spec.SLO{slos[2], slos[1], slos[0]}
	b, err := Generate(rev, "/d")
	require.NoError(t, err)
	assert.Equal(t, a, b)
}

func TestGeneratedFilesAreValidJSONWithTheirUID(t *testing.T) {
	files, err := Generate(loadSLOs(t), "/d")
	require.NoError(t, err)
	require.Len(t, files, 3+2+1)
	for _, f := range files {
		if f.Name == ProvisioningFile {
			continue
		}
		var d map[string]any
		require.NoError(t, json.Unmarshal(f.Data, &d), f.Name)
		assert.Equal(t, f.Name, d["uid"].(string)+".json")
		assert.GreaterOrEqual(t, d["schemaVersion"], float64(39), f.Name)
		assert.NotEmpty(t, d["panels"], f.Name)
	}
}

func TestProvisioningFile(t *testing.T) {
	got := Provisioning(`/var/lib/grafana/dash "obsd"`)
	assert.Contains(t, got, "apiVersion: 1\nproviders:\n")
	assert.Contains(t, got, "    type: file\n")
	assert.Contains(t, got, `      path: "/var/lib/grafana/dash \"obsd\""`+"\n")
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, Write(dir, []File{{Name: "a.json", Data: []byte("{}\n")}}))
	got, err := os.ReadFile(filepath.Join(dir, "a.json"))
	require.NoError(t, err)
	assert.Equal(t, "{}\n", string(got))
	_, err = os.Stat(filepath.Join(dir, "a.json.tmp"))
	assert.True(t, os.IsNotExist(err), "no temporary file left")
	assert.ErrorContains(t, Write(dir, []File{{Name: "../x.json"}}), "path separator")
}

func BenchmarkGenerate(b *testing.B) {
	slos, err := formats.Load(goldenSLOs)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(slos, "/d"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMetricNames(b *testing.B) {
	slos, err := formats.Load(goldenSLOs)
	require.NoError(b, err)
	ds, err := Dashboards(slos)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MetricNames(ds...); err != nil {
			b.Fatal(err)
		}
	}
}
