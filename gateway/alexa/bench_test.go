package alexa

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// The benchmarks report the cost of each step against a baseline measured in
// the same run: plain encoding/json on the same message.

var benchDirective = []byte(`{"directive":{"header":{"namespace":"Alexa.ThermostatController","name":"AdjustTargetTemperature","payloadVersion":"3","messageId":"1bd5d003-31b9-476f-ad03-71d471922820","correlationToken":"dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8ptlAKulUj90jSqg=="},"endpoint":{"endpointId":"HUB123::virtual::hvac-1","cookie":{}},"payload":{"targetSetpointDelta":{"value":-2.0,"scale":"FAHRENHEIT"}}}}`)

func BenchmarkBaselineUnmarshalDirective(b *testing.B) {
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(benchDirective, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAndDecode(b *testing.B) {
	f := fixtures()[4] // thermostat_dual_f
	p := mustProfile(b, ProfileSmartHome)
	for b.Loop() {
		d, err := ParseDirective(benchDirective)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Decode(d, f.ep, f.st); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineMarshalEndpoint(b *testing.B) {
	ep := fixtures()[0].ep
	for b.Loop() {
		if _, err := json.Marshal(ep); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEndpointAVS(b *testing.B) {
	ep := fixtures()[0].ep
	p := mustProfile(b, ProfileAVS, "en-US", "de-DE")
	for b.Loop() {
		if _, err := p.Endpoint(ep); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponseWithProperties(b *testing.B) {
	f := fixtures()[0]
	p := mustProfile(b, ProfileAVS)
	d, err := ParseDirective(benchDirective)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	for b.Loop() {
		if _, err := NewResponse(d, f.ep.ID, p.Properties(f.ep, f.st, true, at)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProactive(b *testing.B) {
	f := fixtures()[0]
	p := mustProfile(b, ProfileAVS, "en-US", "de-DE")
	pr := Property{Namespace: nsRange, Instance: InstanceBrightness, Name: "rangeValue"}
	for b.Loop() {
		if !p.Proactive(f.ep, pr) {
			b.Fatal("not proactive")
		}
	}
}

// BenchmarkDiscovery300Mixed renders the Alexa.Discovery endpoints of 300
// endpoints of mixed kinds (the fixtures, lights to blinds, door, motion and
// leak sensors, metered plugs, fans and sirens, repeated) and their
// AddOrUpdateReport, as the hub does when it publishes a full home.
func BenchmarkDiscovery300Mixed(b *testing.B) {
	fs := fixtures()
	eps := make([]json.RawMessage, 300)
	for _, prof := range []string{ProfileAVS, ProfileSmartHome} {
		b.Run(prof, func(b *testing.B) {
			p := mustProfile(b, prof, "en-US", "de-DE")
			var size int
			for b.Loop() {
				for i := range eps {
					ep := fs[i%len(fs)].ep
					ep.ID = fmt.Sprintf("%s-%d", ep.ID, i)
					raw, err := p.Endpoint(ep)
					if err != nil {
						b.Fatal(err)
					}
					eps[i] = raw
				}
				rep, err := NewAddOrUpdateReport(eps)
				if err != nil {
					b.Fatal(err)
				}
				size = len(rep)
			}
			b.ReportMetric(float64(size)/1024, "report-KB")
		})
	}
}
