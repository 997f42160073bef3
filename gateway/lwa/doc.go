// Package lwa authorizes the hub with Login with Amazon (LWA), the way an AVS
// product must.
//
// Linking uses code-based linking (CBL): Link asks LWA for a code pair
// (POST /auth/o2/create/codepair, response_type=device_code, scope=alexa:all,
// scope_data with the product id and device serial number), shows the owner
// the verification URL and the user code, and polls /auth/o2/token with
// Amazon's grant_type=device_code and user_code, honouring interval,
// authorization_pending, slow_down (interval doubled, capped at 60 s),
// invalid_code_pair (a new code pair), expires_in and 5xx (retried with the
// SDK's jittered 1…60 s backoff). Right after linking the refresh token is
// tested with one refresh, as the AVS Device SDK does. ImportRefreshToken
// imports a refresh token obtained by a companion app instead (remote
// authorization; refreshes then carry the client secret when configured).
//
// At run time an Authorizer hands access tokens to the AVS connection
// (avs.TokenSource: Token and Invalidate). It refreshes with
// grant_type=refresh_token ahead of expiry (Config.RefreshHeadStart) and at
// once after a 403 (Invalidate), persists the refresh token of every answer,
// and after invalid_grant or a configuration error (invalid_client, …) marks
// the hub "needs re-link", logs one line saying to run `avshub link`, and
// sends nothing more to LWA.
//
// The refresh token lives in <dataDir>/lwa/tokens.json (directory 0700, file
// 0600), written atomically (temp file, fsync, rename). Tokens and codes never
// appear in logs or errors: Redact, RedactAttr and NewRedactingHandler hide
// token shapes (Atza|…, Atzr|…, bearer credentials) and secret-named values,
// and are meant for the whole hub's logger.
//
// The wire exchange is written here rather than with x/oauth2's
// Config.DeviceAccessToken, which polls on a wall-clock ticker (no injectable
// clock), adds 5 s on slow_down and treats 5xx and invalid_code_pair as final;
// x/oauth2 supplies the Token type, Endpoint and an oauth2.TokenSource adapter
// (Authorizer.OAuth2). Package lwatest is a faithful LWA emulator for tests.
package lwa
