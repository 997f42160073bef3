package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery"
)

// Client talks to a running hub's local API over its unix socket.
type Client struct {
	hc *http.Client
}

// NewClient returns a client for the socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{hc: &http.Client{Transport: tr, Timeout: 15 * time.Second}}
}

// Status returns the hub's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodGet, "/api/v1/status", &s)
}

// Endpoints returns every endpoint with its state, fetched a page of
// DefaultPageSize at a time (a big home does not hit the reply limit).
func (c *Client) Endpoints(ctx context.Context) ([]Endpoint, error) {
	var all []Endpoint
	after := ""
	for {
		p, err := c.EndpointPage(ctx, after, DefaultPageSize)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Endpoints...)
		if p.Next == "" {
			return all, nil
		}
		after = p.Next
	}
}

// EndpointPage returns at most limit endpoints whose ids sort after after.
func (c *Client) EndpointPage(ctx context.Context, after string, limit int) (Page, error) {
	var p Page
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	return p, c.do(ctx, http.MethodGet, "/api/v1/endpoints?"+q.Encode(), &p)
}

// Pair opens a bridge for pairing for d.
func (c *Client) Pair(ctx context.Context, bridge string, d time.Duration) error {
	return c.do(ctx, http.MethodPost, "/api/v1/bridges/"+url.PathEscape(bridge)+"/pair?for="+d.String(), nil)
}

// Configure changes the settings of the endpoint ref names (id or name) and
// returns the endpoint after the change.
func (c *Client) Configure(ctx context.Context, ref string, p discovery.SettingsPatch) (Endpoint, error) {
	var e Endpoint
	body, err := json.Marshal(p)
	if err != nil {
		return e, err
	}
	return e, c.doBody(ctx, http.MethodPost, "/api/v1/endpoints/"+url.PathEscape(ref)+"/settings", body, &e)
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	return c.doBody(ctx, method, path, nil, out)
}

func (c *Client) doBody(ctx context.Context, method, path string, in []byte, out any) error {
	var rd io.Reader
	if in != nil {
		rd = bytes.NewReader(in)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://avshub"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-Avshub", "cli")
	resp, err := c.hc.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "no such file") || strings.Contains(err.Error(), "connection refused") {
			return fmt.Errorf("avshub is not running (no local API socket): %w", err)
		}
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

// SnapshotDB writes a consistent copy of the running hub's database to w and
// returns the database's file name and size.
func (c *Client) SnapshotDB(ctx context.Context, w io.Writer) (string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://avshub/api/v1/backup/db", nil)
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("X-Avshub", "cli")
	hc := *c.hc
	hc.Timeout = 0 // a big database takes what it takes; ctx bounds it
	resp, err := hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("database snapshot: %s", resp.Status)
	}
	name := resp.Header.Get("X-Avshub-Db-Name")
	if name == "" || strings.ContainsAny(name, "/\\") {
		return "", 0, fmt.Errorf("database snapshot: the hub named no file")
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return "", n, fmt.Errorf("database snapshot cut short after %d bytes: %w", n, err)
	}
	return name, n, nil
}

// Remove makes the device of the endpoint ref names leave its bridge and
// forgets it; it returns the endpoint's id and name.
func (c *Client) Remove(ctx context.Context, ref string) (id, name string, err error) {
	var out struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	err = c.do(ctx, http.MethodPost, "/api/v1/endpoints/"+url.PathEscape(ref)+"/remove", &out)
	return out.ID, out.Name, err
}

// PairingEvents streams the hub's pairing events of bridge ("" for all)
// until ctx ends or the hub closes the stream. The channel is open once the
// hub has accepted the stream: events from then on are not missed.
func (c *Client) PairingEvents(ctx context.Context, bridge string) (<-chan PairingEvent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://avshub/api/v1/pairing/events?bridge="+url.QueryEscape(bridge), nil)
	if err != nil {
		return nil, err
	}
	hc := *c.hc
	hc.Timeout = 0 // a stream: ctx bounds it
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("avshub is not running (no local API socket): %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("pairing events: %s", resp.Status)
	}
	out := make(chan PairingEvent, 16)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev PairingEvent
			if json.Unmarshal([]byte(data), &ev) != nil {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
