package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/lwa"
)

// TestUnlinkedHubConnectsAfterLink: a hub started without tokens runs its
// bridge without contacting AVS, and connects (post-connect and discovery)
// without a restart once tokens appear in the data directory, written the
// way `avshub link` writes them (here from outside the hub, as that command
// runs in another process).
func TestUnlinkedHubConnectsAfterLink(t *testing.T) {
	e := newEnv(t, envOptions{Unlinked: true})
	e.start()
	e.poll(ctxFor(t, 30*time.Second), "the unlinked hub's endpoints", func() error {
		if st := e.hub.Status(); st.Link.Linked || st.AVS.State != stateWaitingForLink || st.Endpoints != len(e.deviceIDs()) {
			return fmt.Errorf("link %+v, AVS %s, %d endpoints", st.Link, st.AVS.State, st.Endpoints)
		}
		return nil
	})
	if n := e.emu.State().Connections; n != 0 {
		t.Fatalf("the unlinked hub opened %d connections to AVS", n)
	}
	lc, err := lwa.FromConfig(e.cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lwa.ImportRefreshToken(ctx, lc, e.emu.IssueToken().RefreshToken, io.Discard); err != nil {
		t.Fatal(err)
	}
	lc.HTTPClient.CloseIdleConnections()
	e.waitConnected()
	e.waitKnown()
	if st := e.hub.Status(); !st.Link.Linked || st.Link.LinkPage != "" {
		t.Errorf("status after the link: %+v", st.Link)
	}
}
