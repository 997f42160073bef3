// Package metrics defines avshub's Prometheus metrics on a private registry.
// Every method is safe on a nil *Metrics, so components take one optionally.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every avshub collector.
type Metrics struct {
	Registry *prometheus.Registry

	directives        *prometheus.CounterVec
	directiveLatency  *prometheus.HistogramVec
	events            *prometheus.CounterVec
	reconnects        prometheus.Counter
	postConnect       prometheus.Histogram
	bridgeUp          *prometheus.GaugeVec
	bridgeRestarts    *prometheus.CounterVec
	endpoints         *prometheus.GaugeVec
	changeReports     prometheus.Counter
	changeCoalesced   prometheus.Counter
	mqttMessages      *prometheus.CounterVec
	connectionState   *prometheus.GaugeVec
	discoveryReported *prometheus.CounterVec
	brokerRefused     *prometheus.CounterVec
}

// New creates the collectors on a new private registry (with Go and process collectors).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{Registry: reg}
	m.directives = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avshub_directives_total",
		Help: "Directives handled, by interface, name and result."}, []string{"namespace", "name", "result"})
	m.directiveLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "avshub_directive_duration_seconds",
		Help:    "Time from a directive's arrival to its answer being queued.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"namespace"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avshub_events_total",
		Help: "Events sent to AVS, by name and HTTP status (or error)."}, []string{"name", "status"})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{Name: "avshub_avs_reconnects_total",
		Help: "Reconnections of the AVS HTTP/2 connection."})
	m.postConnect = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "avshub_avs_post_connect_seconds",
		Help: "Duration of the post-connect sequence.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)})
	m.bridgeUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "avshub_bridge_up",
		Help: "1 while a bridge is running and healthy."}, []string{"bridge"})
	m.bridgeRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avshub_bridge_restarts_total",
		Help: "Bridge process restarts."}, []string{"bridge"})
	m.endpoints = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "avshub_endpoints",
		Help: "Endpoints, by bridge and display category."}, []string{"bridge", "category"})
	m.changeReports = prometheus.NewCounter(prometheus.CounterOpts{Name: "avshub_changereports_sent_total",
		Help: "ChangeReports sent to AVS."})
	m.changeCoalesced = prometheus.NewCounter(prometheus.CounterOpts{Name: "avshub_changereports_coalesced_total",
		Help: "State changes folded into a ChangeReport that was already pending."})
	m.mqttMessages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avshub_mqtt_messages_total",
		Help: "MQTT messages, by direction (in, out)."}, []string{"direction"})
	m.connectionState = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "avshub_avs_connection_state",
		Help: "1 for the AVS connection's current state."}, []string{"state"})
	m.discoveryReported = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avshub_discovery_reports_total",
		Help: "Alexa.Discovery reports sent, by name."}, []string{"name"})
	m.brokerRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avshub_mqtt_broker_refused_total",
		Help: "What the embedded MQTT broker refused or dropped, by the limit (mqtt.embedded.limits setting) that did."}, []string{"limit"})
	for _, c := range []prometheus.Collector{m.brokerRefused, m.directives, m.directiveLatency, m.events, m.reconnects, m.postConnect,
		m.bridgeUp, m.bridgeRestarts, m.endpoints, m.changeReports, m.changeCoalesced, m.mqttMessages,
		m.connectionState, m.discoveryReported} {
		f(c)
	}
	return m
}

// Directive counts one handled directive and its latency.
func (m *Metrics) Directive(namespace, name, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.directives.WithLabelValues(namespace, name, result).Inc()
	m.directiveLatency.WithLabelValues(namespace).Observe(d.Seconds())
}

// Event counts one event sent to AVS with its status ("204", "429", "error").
func (m *Metrics) Event(name, status string) {
	if m == nil {
		return
	}
	m.events.WithLabelValues(name, status).Inc()
}

// Reconnect counts one reconnection to AVS.
func (m *Metrics) Reconnect() {
	if m == nil {
		return
	}
	m.reconnects.Inc()
}

// PostConnect records how long the post-connect sequence took.
func (m *Metrics) PostConnect(d time.Duration) {
	if m == nil {
		return
	}
	m.postConnect.Observe(d.Seconds())
}

// ConnectionState sets the AVS connection's current state (one of states).
func (m *Metrics) ConnectionState(state string, states []string) {
	if m == nil {
		return
	}
	for _, s := range states {
		v := 0.0
		if s == state {
			v = 1
		}
		m.connectionState.WithLabelValues(s).Set(v)
	}
}

// BridgeUp records whether a bridge is up.
func (m *Metrics) BridgeUp(bridge string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.bridgeUp.WithLabelValues(bridge).Set(v)
}

// BridgeRestart counts one restart of a bridge.
func (m *Metrics) BridgeRestart(bridge string) {
	if m == nil {
		return
	}
	m.bridgeRestarts.WithLabelValues(bridge).Inc()
}

// Endpoints sets the number of endpoints of one bridge and category.
func (m *Metrics) Endpoints(bridge, category string, n int) {
	if m == nil {
		return
	}
	m.endpoints.WithLabelValues(bridge, category).Set(float64(n))
}

// ResetEndpoints clears the endpoint gauges before they are set anew.
func (m *Metrics) ResetEndpoints() {
	if m == nil {
		return
	}
	m.endpoints.Reset()
}

// ChangeReportSent counts one ChangeReport sent.
func (m *Metrics) ChangeReportSent() {
	if m == nil {
		return
	}
	m.changeReports.Inc()
}

// ChangeReportCoalesced counts one change folded into a pending ChangeReport.
func (m *Metrics) ChangeReportCoalesced() {
	if m == nil {
		return
	}
	m.changeCoalesced.Inc()
}

// MQTTMessage counts one MQTT message in ("in") or out ("out").
func (m *Metrics) MQTTMessage(direction string) {
	if m == nil {
		return
	}
	m.mqttMessages.WithLabelValues(direction).Inc()
}

// BrokerRefused counts one refusal (or dropped message) of the embedded broker by limit.
func (m *Metrics) BrokerRefused(limit string) {
	if m == nil {
		return
	}
	m.brokerRefused.WithLabelValues(limit).Inc()
}

// DiscoveryReport counts one Alexa.Discovery report sent.
func (m *Metrics) DiscoveryReport(name string) {
	if m == nil {
		return
	}
	m.discoveryReported.WithLabelValues(name).Inc()
}
