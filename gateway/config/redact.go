package config

import (
	"net/url"
	"regexp"
	"strings"
)

// AnonymousBrokerFix tells how to close the anonymous embedded broker.
const AnonymousBrokerFix = "close it with a user for dashboards: mqtt.embedded.users: [{username: dashboard, password: <secret>, read: [\"avshub/#\", \"homeassistant/#\"], write: [\"avshub/+/set\", \"homeassistant/status\"]}]"

// RedactedPassword stands for a password taken out of a URL.
const RedactedPassword = "[REDACTED]"

// urlUserinfo matches the user:password@ part of a URL inside any text.
var urlUserinfo = regexp.MustCompile(`(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:"'<>]*:)[^\s/?#@"'<>]*@`)

// RedactURL returns s, a URL or any text holding URLs (a log line, an
// error), with the password of every URL's user information replaced by
// [REDACTED]; the user name stays. It is the one redaction for URLs: the log,
// /api/v1/status, the status page, `avshub status` and `avshub config check`
// all show a URL through it.
func RedactURL(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.User != nil && !strings.ContainsAny(s, " \t\n") {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), RedactedPassword)
			out := u.String()
			// url escapes the brackets; keep the marker readable.
			return strings.Replace(out, url.PathEscape(RedactedPassword), RedactedPassword, 1)
		}
		return s
	}
	return urlUserinfo.ReplaceAllString(s, "${1}"+RedactedPassword+"@")
}
