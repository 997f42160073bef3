package router

import (
	"testing"

	"github.com/avshub/avshub/gateway/metrics"
)

type metricsProbe struct{ m *metrics.Metrics }

func newMetricsProbe() metricsProbe { return metricsProbe{metrics.New()} }

// counter returns the summed value of a counter family.
func (p metricsProbe) counter(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := p.m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				total += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				total += g.GetValue()
			}
		}
	}
	return total
}
