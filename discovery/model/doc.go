// Package model is avshub's one device model: endpoints with traits, their
// state, the commands that change it, typed command errors and the events a
// bridge sends. It is shared by the hub, the plugin SDK, the conformance kit,
// every bridge and (converted) the bridge protocol. Bridges see traits and
// commands only, never Alexa JSON; the hub's registry and Alexa.Discovery
// diffing live in package discovery, which bridges do not import.
package model
