// Package skill is the hub's second road to Alexa (alexa.transport: skill):
// the backend of the owner's own Smart Home skill, for Amazon accounts AVS
// cannot take (Amazon closed AVS to new products).
//
// Alexa sends each directive to the skill's AWS Lambda function; the
// forwarder in the repository (cmd/skill-lambda, package forward) signs it
// (package sign) and POSTs it to this endpoint, which answers synchronously
// within Alexa's 8 s: Alexa.Authorization.AcceptGrant (the grant code is
// exchanged with Login with Amazon for the event gateway tokens, stored like
// the AVS tokens: gateway/lwa's store, 0600, atomic, refreshed ahead of
// expiry), Alexa.Discovery.Discover (Discover.Response with every endpoint of
// the registry; the hub publishes no endpoint of its own on this road),
// ReportState (StateReport) and every controller directive (Response,
// ErrorResponse or DeferredResponse), all through the same router, profile
// (always smarthome), registry and discovery manager as the AVS road. The
// first answer the router sends for a directive goes back in the HTTP
// response; everything else — ChangeReports, the final answer after a
// DeferredResponse, AddOrUpdateReport/DeleteReport — goes to the region's
// Alexa event gateway with the scope token, where 401 refreshes the token
// once, 403 SKILL_DISABLED_EXCEPTION stops all sending (and says so) until the
// next AcceptGrant, and 429, 5xx and transport failures are retried with
// backoff (honouring Retry-After) until delivered, so nothing is lost while
// the hub runs.
//
// # Authentication, and its trade-offs
//
// Two checks guard the endpoint, because it must be reachable from AWS:
//
//   - An HMAC-SHA256 over the exact body, with a secret only the Lambda and
//     the hub know (skill.secret, the Lambda's AVSHUB_SECRET), timestamped
//     and refused outside ±5 min or when replayed. It proves the request came
//     through the owner's Lambda, not from anyone who found the URL. It costs
//     a shared secret to keep in two places (rotate both together), and the
//     hub's clock must be right (NTP): `avshub skill doctor` checks it.
//   - The account-linking access token every directive carries (Login with
//     Amazon is the skill's account-linking provider): the hub asks LWA's
//     profile endpoint (GET /user/profile, scope profile:user_id) once per
//     token whose Amazon user it is, caches the answer for an hour (by a hash
//     of the token), and accepts only the user it is linked to — skill.userId,
//     or else the user of the first authenticated directive, recorded in the
//     data directory. A skill in development is private to its developer's
//     account, but a household member who enables it with another Amazon
//     account is refused (INVALID_AUTHORIZATION_CREDENTIAL) rather than given
//     the devices. The profile lookup needs the hub to reach api.amazon.com;
//     when LWA is down, directives with tokens not yet cached are refused.
//
// Alexa's own request signature is not available to a Smart Home skill's
// Lambda (Smart Home directives are not signed like custom skills' requests),
// which is why the Lambda must stay the only way in: keep the HMAC secret out
// of logs and source control.
//
// # Transport
//
// The endpoint serves HTTPS with the hub's own certificate (skill.tlsCert and
// skill.tlsKey; the Lambda trusts it through AVSHUB_CA_PEM), or plain HTTP on
// loopback behind a reverse proxy or a tunnel (Cloudflare Tunnel, Tailscale
// Funnel) that terminates TLS, so nobody has to open a port on their router:
// see docs/alexa-skill.md. Plain HTTP must never face the internet: the HMAC
// keeps strangers out but not eavesdroppers from the account-linking token.
package skill
