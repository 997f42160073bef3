// Package skilltest is an emulator of Alexa's side of a Smart Home skill, for
// tests, demos and cmd/skill-sim, beside gateway/avstest (the AVS emulator).
//
// It plays what Amazon runs for a skill whose backend is the hub:
//   - Alexa: it sends directives — Alexa.Authorization.AcceptGrant with an
//     authorization code its Login with Amazon accepts, Alexa.Discovery.Discover,
//     ReportState and every controller directive — each carrying the account
//     linking access token of the emulated Amazon user (endpoint.scope,
//     payload.scope or payload.grantee), and waits at most 8 s for the answer;
//   - AWS Lambda: the directives go through the real forwarder binary
//     (cmd/skill-lambda) run locally under an emulation of the Lambda Runtime
//     API (plain HTTP: GET /2018-06-01/runtime/invocation/next, POST
//     …/invocation/<id>/response, …/invocation/<id>/error, …/init/error), so
//     the binary a person uploads to AWS is the one tested;
//   - Login with Amazon (lwatest, on the same TLS listener): the grant code
//     exchange (grant_type=authorization_code with the skill's client id and
//     secret), refreshes, and GET /user/profile;
//   - the Alexa event gateway (POST /v3/events, the same TLS listener): the
//     bearer token must be one LWA issued for the grant (not the account
//     linking token) and equal the event's scope token; the body at most
//     1 MB; every event is checked against the official Smart Home schema
//     (gateway/alexa/schema); discovery reports follow Alexa's limits (300
//     endpoints, the field rules of avstest.CheckEndpoint); an asynchronous
//     Response or ErrorResponse must answer a directive that was answered with
//     a DeferredResponse, once; 202 on success, errors as Amazon documents them
//     ({"header":{…System.Exception},"payload":{"code","description"}}).
//
// Faults (Inject, or POST /sim/fault): expire-token (every access token
// expires now: the hub's gateway token and the linking token), status (the
// next N event gateway requests answered 429/500/503), skill-disabled (403
// SKILL_DISABLED_EXCEPTION until AcceptGrant runs again), clear.
//
// The synchronous answers and the gateway's events are kept as Records (Via
// "lambda" or "gateway") and written to Options.Record as JSON lines. The
// admin API (AdminHandler) has the shape of avstest's where it overlaps:
// GET /sim/state, /sim/endpoints, /sim/events; POST /sim/directive?wait=,
// /sim/fault; plus POST /sim/accept-grant and /sim/discover.
package skilltest
