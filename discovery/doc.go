// Package discovery holds avshub's one device model (endpoints with traits,
// their state and the commands that change it), the registry that merges what
// every bridge reports, and the diff of that registry against what Alexa was
// last told (Alexa.Discovery AddOrUpdateReport and DeleteReport).
//
// The model is shared by the hub, the plugin SDK and (converted) the bridge
// protocol. Bridges see traits and commands only, never Alexa JSON.
package discovery
