// Package avstest is an emulator of the Alexa Voice Service for tests, demos
// and cmd/avs-sim, in the manner of net/http/httptest: New starts it on
// loopback, HTTP/2 over TLS with its own CA (ClientTLS, CAPEM, or ca.pem in
// Options.CertDir).
//
// It serves the three AVS paths as AVS documents them:
//   - GET /v20160207/directives: the downchannel, multipart/related with AVS's
//     unquoted "type=application/json", each part followed at once by the next
//     delimiter so a streaming reader gets it without waiting;
//   - POST /v20160207/events: multipart/form-data with a "metadata" part;
//     204 for ordinary events, 202 plus Alexa.EventProcessed (on the
//     downchannel) for Alexa.Discovery reports, 204 or a 200 carrying
//     Alexa.ApiGateway.SetGateway (Options.SetGateway) for VerifyGateway;
//     errors as a JSON System.Exception (400 INVALID_REQUEST_EXCEPTION with a
//     description naming the field, 403 UNAUTHORIZED_REQUEST_EXCEPTION);
//   - GET /ping: 204.
//
// Every request needs a bearer token that lwatest.Server.ValidAccessToken
// accepts (the LWA emulator is mounted at /auth/o2/ on the same listener).
// The endpoint list is kept as Alexa keeps it (AddOrUpdateReport replaces per
// endpoint, DeleteReport removes) within Alexa's limits (300 endpoints,
// 256 KB events, field lengths, endpointId charset, cookie size, 100
// capabilities). Every Alexa.* event is checked against the official Smart
// Home schema (gateway/alexa/schema; the hub's own endpoint, which carries
// AVS-only fields, is checked by the rules above instead). Profile "avs"
// refuses on connected endpoints, and in state properties, any interface AVS
// does not document for them (only Alexa, PowerController, ToggleController,
// RangeController, ModeController); profile "smarthome" accepts the Smart
// Home interfaces. Events that break the post-connect order are recorded in
// State.Violations.
//
// Faults (Inject, or POST /sim/fault): goaway, drop-downchannel,
// expire-token, stall (headers or body, events/ping/directives), status (the
// next N requests answered 429/500/503/…), no-event-processed, clear.
// AdminHandler serves the admin API (see its doc) and the LWA emulator's admin
// paths; SendDirective, Endpoints, Events, State, WaitForState and
// WaitForEvent are the same in Go. A directive counts as sent once it was
// written and flushed on the downchannel: SendDirective fails (409 on the admin
// API) when there is no downchannel or it ended first, and the directive may
// then be sent again without the hub ever seeing it twice. Options.Record receives one JSON line per
// event: {"receivedAt":…,"status":…,"event":{…}}.
package avstest
