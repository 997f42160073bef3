// Package discovery is the hub's side of the device model: the registry that
// merges what every bridge reports, and the diff of that registry against what
// Alexa was last told (Alexa.Discovery AddOrUpdateReport and DeleteReport).
//
// The model itself (endpoints, traits, state, commands, errors, bridge events)
// is package discovery/model, which bridges import; bridges never import this
// package.
package discovery
