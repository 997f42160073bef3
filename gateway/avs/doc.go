// Package avs keeps the hub's one HTTP/2 connection to the Alexa Voice Service
// (envelope v20160207, as AVS documents it) and knows messages
// only as JSON envelopes.
//
// A Client dials one TLS connection (ALPN h2, golang.org/x/net/http2) to the
// gateway: the persisted Alexa.ApiGateway.SetGateway URL if there is one
// (GatewayStore), else Options.URL, else the region table (Endpoints,
// LegacyEndpoints). It then walks the AVS Device SDK's states
//
//	AUTHORIZING → CONNECTING → POST_CONNECTING → CONNECTED
//
// opening the downchannel (GET /v20160207/directives, read part by part by
// MultipartReader, which accepts Amazon's unquoted type=application/json and
// never buffers the endless stream), then running the post-connect sequence:
// Alexa.ApiGateway.VerifyGateway (204, or SetGateway: persist, reconnect there),
// the DiscoverySource's pending Alexa.Discovery reports (202 and, for
// AddOrUpdateReport, Alexa.EventProcessed by eventCorrelationToken within 2 s,
// retried on the SDK's 1…256 s table; payload.scope carries the live token),
// and System.SynchronizeState. Only these events go out before CONNECTED; Send
// queues the others (bounded) and they survive reconnects: an event whose
// stream broke is put back in order and sent on the next connection, however
// often connections end under it. An event may also be the cause: one that
// gets no response headers within EventTimeout (30 s), or whose stream the
// server resets, ends the connection as well, and after three such failures
// it is given up (Send returns the error).
//
// Events are POST /v20160207/events, multipart/form-data with one "metadata"
// part. The next event starts only after the previous one's response headers,
// and at most MaxEventStreams (8 = 10 − downchannel − ping) are open at once.
// 200 bodies are multipart/related directives (dispatched like the
// downchannel's), 204 and 202 are success, 4xx/5xx bodies become *Exception
// (System.Exception): 403 invalidates the token and retries once, 429/500/503
// back off (the whole connection pauses) and retry up to MaxRetries.
//
// After PingInterval (5 min) without activity the client sends GET /ping (30 s
// timeout). GOAWAY (seen in the frame headers the server sends: see goAwayConn), the downchannel's end,
// a failed ping or a post-connect failure end the connection; the client
// reconnects after 250 ms, 1, 3, 5, 10, 20 s (±50 %, the SDK's table), from the
// start of the table once a connection had reached CONNECTED. The downchannel
// of an ended connection is still read until the server ends it, for at most
// 10 s: HTTP/2 lets streams opened before a GOAWAY finish, and a directive AVS
// wrote just before it is answered through the next connection.
//
// Directives: Alexa.EventProcessed, Alexa.ApiGateway.SetGateway,
// System.ResetUserInactivity and System.Exception are handled here; every
// other one goes to the DirectiveHandler in its own goroutine. A directive that
// cannot be parsed, or whose handler returns an error wrapping ErrUnsupported
// or ErrMalformed (or panics), is answered with System.ExceptionEncountered.
// Nothing AVS sends can crash the client.
//
// DeviceEndpoint builds the hub's own endpoint (ALEXA_VOICE_ENABLED,
// registration, System 2.0, Alexa.ApiGateway 1.0, Alexa 3) for the first
// AddOrUpdateReport. Status reports the state, its history, the last ping,
// the gateway and the queue; an optional *metrics.Metrics counts events,
// reconnects, discovery reports, post-connect time and the state.
//
// Package avstest is the AVS emulator the tests run against.
package avs
