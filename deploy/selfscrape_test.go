package deploy

import (
	"os"
	"regexp"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/slo/contract"
)

// TestSelfScrapeDoesNotDuplicateTheSLOSeries: the shipped agent configs
// scrape obsd's own /metrics (job obsd-self) and also run the slo
// connector, which writes its per-SLO series down the metrics pipeline.
// The scrape must drop exactly those (or each SLO series reaches the
// backend twice) and keep the connector's self-metrics, which only the
// scrape carries.
func TestSelfScrapeDoesNotDuplicateTheSLOSeries(t *testing.T) {
	for _, path := range []string{"../config.example.yaml", "helm/obsd/files/agent.yaml"} {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				Receivers map[string]struct {
					Config struct {
						ScrapeConfigs []struct {
							JobName        string `yaml:"job_name"`
							MetricRelabels []struct {
								SourceLabels []string `yaml:"source_labels"`
								Regex        string   `yaml:"regex"`
								Action       string   `yaml:"action"`
							} `yaml:"metric_relabel_configs"`
						} `yaml:"scrape_configs"`
					} `yaml:"config"`
				} `yaml:"receivers"`
			}
			if err := yaml.Unmarshal(data, &cfg); err != nil {
				t.Fatal(err)
			}
			var drop *regexp.Regexp
			for _, r := range cfg.Receivers {
				for _, sc := range r.Config.ScrapeConfigs {
					if sc.JobName != "obsd-self" {
						continue
					}
					for _, mr := range sc.MetricRelabels {
						if mr.Action == "drop" && len(mr.SourceLabels) == 1 && mr.SourceLabels[0] == "__name__" {
							drop = regexp.MustCompile("^(?:" + mr.Regex + ")$") // Prometheus anchors relabel regexes
						}
					}
				}
			}
			if drop == nil {
				t.Fatal("no obsd-self scrape with a __name__ drop rule")
			}
			for _, name := range contract.EmittedMetrics {
				if !drop.MatchString(name) {
					t.Errorf("%s is emitted by the connector and scraped too: it arrives twice", name)
				}
			}
			for _, name := range []string{contract.MetricPoints, contract.MetricRestoreFailures, contract.MetricGroupOverflow} {
				if drop.MatchString(name) {
					t.Errorf("%s is only on /metrics, and the scrape drops it", name)
				}
			}
		})
	}
}
