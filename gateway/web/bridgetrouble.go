package web

import (
	"fmt"
	"strings"
)

// BridgeTrouble says in words what a bridge's last error means and what, if
// anything, a person should do; the page shows the error itself behind
// "Technical details" (it reads like "event stream of zigbee ended: rpc error:
// code = Unavailable desc = error reading from server: EOF"). "" when the
// bridge has had no error.
func BridgeTrouble(b BridgeStatus) string {
	e := b.LastError
	switch {
	case e == "":
		return ""
	case strings.Contains(e, "sha256"):
		return "The hub does not start it: its program file is not the one the hub trusts (it was replaced or rebuilt). The details say what to do."
	case strings.Contains(e, "too new for this hub"), strings.Contains(e, "too old for this hub"):
		return "The hub does not start it: it was built for another version of avshub. The details say which."
	case b.State == "failed":
		return "It kept failing, so the hub stopped restarting it. Fix what the details say, then reload the hub (SIGHUP) or restart it."
	case b.State == "running" && b.Restarts > 0:
		return fmt.Sprintf("It stopped unexpectedly and the hub restarted it (%s so far).", times(b.Restarts))
	case b.State == "restarting":
		return "It stopped unexpectedly; the hub restarts it in a moment."
	default:
		return "It stopped unexpectedly."
	}
}

// times says "once", "twice", "3 times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
