// Package dashboard publishes the hub's endpoints to an MQTT broker for
// dashboards (Home Assistant, Node-RED, MQTT Explorer) and carries out the
// commands they send back.
//
// Every endpoint (by default all but those of the "mqtt" bridge, which came
// from MQTT in the first place) gets a Home Assistant device-based discovery
// config (<discovery>/device/<prefix>_<node>/config, retained, origin "avshub"),
// a retained JSON state topic updated on every change with its cause, an
// availability topic, a command topic and an error topic. Commands are decoded
// (DecodeCommand), validated against the endpoint's traits, and executed
// through an Executor (the router) with cause APP_INTERACTION, so they get the
// same checks and errors as Alexa directives; failures are published on the
// error topic. The same paho client code serves the embedded broker
// (package broker) and an external one such as Mosquitto.
//
// See README.md in this directory for the topic layout with examples.
package dashboard
