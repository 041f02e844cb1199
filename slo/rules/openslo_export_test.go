package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
)

// OpenSLO's export-only SLIs (a raw success ratio and a threshold over a
// gauge) become rules that promtool accepts and that compute the share
// of each window the value was bad: the probe fails and the lag is over
// its threshold from minute 60 on, so at 90m half of the last hour is bad
// (within a point either way: subquery edges differ between Prometheus
// versions), none of it at 50m, and the consumer-lag page fires only then.
func TestOpenSLOExportOnlyRulesRunInPromtool(t *testing.T) {
	slos, _, err := formats.LoadExport("../formats/testdata/openslo/wild/export-only.yaml")
	require.NoError(t, err)
	require.Len(t, slos, 2)
	out, err := Generate(slos, Options{})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "obsd.yml"), out, 0o600))
	promtool(t, dir, string(out), "check", "rules", "obsd.yml")

	const test = `rule_files: [obsd.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'probe_success{job="blackbox"}'
        values: '1x59 0x60'
      - series: 'kafka_consumergroup_lag{consumergroup="annotator"}'
        values: '500x59 2000x60'
    promql_expr_test:
      - expr: 'abs(obsd_slo:sli_error:ratio_rate1h{slo="probe-success"} - 0.5) < bool 0.02'
        eval_time: 90m
        exp_samples: [{labels: '{service="web", slo="probe-success"}', value: 1}]
      - expr: 'abs(obsd_slo:sli_error:ratio_rate1h{slo="consumer-lag"} - 0.5) < bool 0.05'
        eval_time: 90m
        exp_samples: [{labels: '{service="annotator", slo="consumer-lag"}', value: 1}]
      - expr: 'obsd_slo:sli_error:ratio_rate30m'
        eval_time: 50m
        exp_samples:
          - {labels: 'obsd_slo:sli_error:ratio_rate30m{service="web", slo="probe-success"}', value: 0}
          - {labels: 'obsd_slo:sli_error:ratio_rate30m{service="annotator", slo="consumer-lag"}', value: 0}
      - expr: 'count(ALERTS{slo="consumer-lag", severity="page", alertstate="firing"}) > bool 0 or vector(0)'
        eval_time: 50m
        exp_samples: [{labels: '{}', value: 0}]
      - expr: 'count(ALERTS{slo="consumer-lag", severity="page", alertstate="firing"}) > bool 0 or vector(0)'
        eval_time: 90m
        exp_samples: [{labels: '{}', value: 1}]
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "test.yml"), []byte(test), 0o600))
	promtool(t, dir, "", "test", "rules", "test.yml")
}
