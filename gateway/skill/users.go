package skill

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/skill/sign"
)

// userCache maps account-linking access tokens to their Amazon user, asking
// LWA's profile endpoint once per token. Only hashes of tokens are kept.
type userCache struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]cachedUser
}

type cachedUser struct {
	user    string
	expires time.Time
}

// userTTL is how long a token's user is remembered (LWA access tokens live 1 h).
const userTTL = time.Hour

// maxUsers bounds the cache.
const maxUsers = 256

func newUserCache(url string, client *http.Client, now func() time.Time) *userCache {
	return &userCache{url: url, client: client, now: now, entries: map[[32]byte]cachedUser{}}
}

// errInvalidToken: LWA does not know the token (expired, revoked, foreign).
var errInvalidToken = errors.New("skill: Login with Amazon does not accept the directive's access token")

func (c *userCache) lookup(ctx context.Context, tok string) (string, error) {
	key := sha256.Sum256([]byte(tok))
	now := c.now()
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.user, nil
	}
	c.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("asking Login with Amazon who the user is: %w", lwa.RedactError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden:
		return "", errInvalidToken
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("asking Login with Amazon who the user is: HTTP %d", resp.StatusCode)
	}
	var p struct {
		UserID string `json:"user_id"`
	}
	if json.Unmarshal(body, &p) != nil || p.UserID == "" {
		return "", errors.New("skill: the Login with Amazon profile has no user_id (does account linking ask for the profile:user_id scope?)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxUsers {
		for k, e := range c.entries {
			if !now.Before(e.expires) || len(c.entries) >= maxUsers {
				delete(c.entries, k)
			}
		}
	}
	c.entries[key] = cachedUser{user: p.UserID, expires: now.Add(userTTL)}
	return p.UserID, nil
}

// replayGuard remembers signatures seen within sign.MaxSkew.
type replayGuard struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newReplayGuard() *replayGuard { return &replayGuard{seen: map[string]time.Time{}} }

// first reports whether sig was not seen within the window, and remembers it.
func (g *replayGuard) first(sig string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.seen) > 4096 {
		for k, t := range g.seen {
			if now.Sub(t) > 2*sign.MaxSkew {
				delete(g.seen, k)
			}
		}
	}
	if t, ok := g.seen[sig]; ok && now.Sub(t) <= 2*sign.MaxSkew {
		return false
	}
	g.seen[sig] = now
	return true
}
