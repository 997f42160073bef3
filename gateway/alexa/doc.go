// Package alexa is avshub's Alexa side: the directive and event envelopes, the
// two profiles that render the device model (discovery traits) as Alexa
// capabilities and decode directives back into trait commands, and the event
// builders (Response, StateReport, ErrorResponse, DeferredResponse,
// ChangeReport, ExceptionEncountered, Alexa.Discovery reports).
//
// See README.md for the profiles, the instance names of the "avs" profile and
// the decoding rules.
package alexa
