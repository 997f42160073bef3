package avs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// postConnect runs VerifyGateway → discovery reports → SynchronizeState;
// only these events go out before CONNECTED.
func (c *Client) postConnect(ctx context.Context, s *conn) error {
	verify := func(string) []byte {
		return newEvent(Header{Namespace: "Alexa.ApiGateway", Name: "VerifyGateway"}, json.RawMessage("[]"), nil)
	}
	if err := c.postRetrying(ctx, s, "Alexa.ApiGateway.VerifyGateway", verify); err != nil {
		return fmt.Errorf("avs: VerifyGateway: %w", err)
	}
	if ctx.Err() != nil { // SetGateway in the answer ended the connection
		return context.Cause(ctx)
	}
	if c.opts.Discovery != nil {
		if err := c.sendReports(ctx, s); err != nil {
			return err
		}
	}
	syncState := func(string) []byte {
		sc := json.RawMessage("[]")
		if c.opts.SyncContext != nil {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if v, err := c.opts.SyncContext(sctx); err != nil {
				if ctx.Err() == nil { // stopping is no failure to report
					c.log.Warn("SynchronizeState context unavailable; sending an empty one", "err", err)
				}
			} else if len(v) > 0 {
				sc = v
			}
		}
		return newEvent(Header{Namespace: "System", Name: "SynchronizeState"}, sc, nil)
	}
	if err := c.postRetrying(ctx, s, "System.SynchronizeState", syncState); err != nil {
		return fmt.Errorf("avs: SynchronizeState: %w", err)
	}
	return nil
}

// postRetrying posts a post-connect event, retrying 429/500/503 with the
// reconnect table; other failures end the attempt.
func (c *Client) postRetrying(ctx context.Context, s *conn, name string, build func(string) []byte) error {
	for retry := 0; ; retry++ {
		_, err := c.post(ctx, s, name, build, nil)
		var exc *Exception
		if errors.As(err, &exc) && exc.Retryable() {
			if sleep(ctx, retryDelay(c.opts.Backoff, retry)) != nil {
				return context.Cause(ctx)
			}
			continue
		}
		return err
	}
}

// sendReports sends every pending discovery report: 202 then, for
// AddOrUpdateReport, Alexa.EventProcessed within EventProcessedTimeout;
// failures are retried with DiscoveryBackoff; a 400 skips the report.
func (c *Client) sendReports(ctx context.Context, s *conn) error {
	for attempt := 0; ; attempt++ {
		reports, err := c.opts.Discovery.PendingReports(ctx)
		if err != nil {
			return fmt.Errorf("avs: pending discovery reports: %w", err)
		}
		failed := false
		for _, r := range reports {
			err := c.sendReport(ctx, s, r)
			var exc *Exception
			switch {
			case err == nil:
				if err := c.opts.Discovery.ReportDelivered(ctx, r); err != nil {
					c.log.Error("cannot record a delivered discovery report", "err", err)
				}
			case ctx.Err() != nil:
				return context.Cause(ctx)
			case errors.As(err, &exc) && exc.Status == http.StatusBadRequest:
				c.log.Error("AVS rejected a discovery report; not retrying it on this connection", "report", r.Name, "err", err)
			default:
				var te *errTransport
				if errors.As(err, &te) {
					return err
				}
				c.log.Warn("discovery report failed; retrying", "report", r.Name, "err", err)
				failed = true
			}
			if failed {
				break
			}
		}
		if !failed {
			return nil
		}
		if err := sleep(ctx, retryDelay(c.opts.DiscoveryBackoff, attempt)); err != nil {
			return context.Cause(ctx)
		}
	}
}

// errNotProcessed: no Alexa.EventProcessed in time.
var errNotProcessed = errors.New("avs: no Alexa.EventProcessed in time")

func (c *Client) sendReport(ctx context.Context, s *conn, r DiscoveryReport) error {
	if r.Name != "AddOrUpdateReport" && r.Name != "DeleteReport" {
		return fmt.Errorf("avs: unknown discovery report %q", r.Name)
	}
	token := ""
	hdr := Header{Namespace: "Alexa.Discovery", Name: r.Name, PayloadVersion: "3", MessageID: newID()}
	var ch chan struct{}
	if r.Name == "AddOrUpdateReport" {
		token = newID()
		hdr.EventCorrelationToken = token
		ch = make(chan struct{})
		c.mu.Lock()
		c.processed[token] = ch
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			delete(c.processed, token)
			c.mu.Unlock()
		}()
	}
	endpoints := r.Endpoints
	if endpoints == nil {
		endpoints = []json.RawMessage{}
	}
	build := func(bearer string) []byte {
		return newEvent(hdr, nil, map[string]any{
			"scope":     map[string]string{"type": "BearerToken", "token": bearer},
			"endpoints": endpoints,
		})
	}
	resp, err := c.post(ctx, s, "Alexa.Discovery."+r.Name, build, nil)
	if err != nil {
		return err
	}
	c.opts.Metrics.DiscoveryReport(r.Name)
	if resp.status != http.StatusAccepted {
		return fmt.Errorf("avs: %s answered %d, want 202", r.Name, resp.status)
	}
	if ch == nil {
		return nil
	}
	t := time.NewTimer(c.opts.EventProcessedTimeout)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return errNotProcessed
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// watchDiscovery sends new reports whenever the source signals, while CONNECTED.
func (c *Client) watchDiscovery(ctx context.Context, s *conn) error {
	// Reports may have become pending after post-connect read them (a signal
	// sent then may have been dropped by a non-blocking sender).
	if err := c.sendReports(ctx, s); err != nil && ctx.Err() == nil {
		return err
	}
	changed := c.opts.Discovery.Changed()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-changed:
			if !ok {
				changed = nil
				continue
			}
		}
		if err := c.sendReports(ctx, s); err != nil && ctx.Err() == nil {
			return err
		}
	}
}
