package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
	"github.com/avshub/avshub/plugins/sdk"
)

// session is one conversation with a bridge over bridge.v1, in process or
// with a plugin process: the client, the manifest, and the main event stream.
type session struct {
	client    pb.BridgeClient
	cfg       Config
	desc      sdk.Description
	config    json.RawMessage // what Configure was given
	devices   []model.Device
	stopMain  context.CancelFunc
	announced bool // BeforeCommands was called

	mu      sync.Mutex
	events  []model.Event
	recvErr error
	notify  chan struct{}
	done    chan struct{}
}

// openMain opens the main event stream and starts reading it.
func (s *session) openMain() error {
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := s.client.StreamEvents(ctx, &pb.StreamEventsRequest{})
	if err != nil {
		cancel()
		return fmt.Errorf("event stream RPC: %w", err)
	}
	s.stopMain, s.notify, s.done = cancel, make(chan struct{}, 1), make(chan struct{})
	go func() {
		defer close(s.done)
		for {
			m, err := stream.Recv()
			s.mu.Lock()
			if err != nil {
				s.recvErr = err
				s.mu.Unlock()
				s.signal()
				return
			}
			ev, ok := convert.EventFrom(m)
			if ok {
				s.events = append(s.events, ev)
			}
			s.mu.Unlock()
			s.signal()
		}
	}()
	return nil
}

func (s *session) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// closeMain cancels the main stream and waits for its reader.
func (s *session) closeMain() {
	if s.stopMain != nil {
		s.stopMain()
		<-s.done
		s.stopMain = nil
	}
}

// waitFor waits until pred holds for the events received so far, returning
// the index of the matching event.
func (s *session) waitFor(ctx context.Context, what string, pred func(i int, ev model.Event) bool) (int, error) {
	from := 0
	for {
		s.mu.Lock()
		evs, rerr := s.events, s.recvErr
		s.mu.Unlock()
		for i := from; i < len(evs); i++ {
			if pred(i, evs[i]) {
				return i, nil
			}
		}
		from = len(evs)
		if rerr != nil {
			return -1, fmt.Errorf("waiting for %s: event stream ended: %w", what, rerr)
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return -1, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

func (s *session) received() []model.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]model.Event(nil), s.events...)
}

// execute sends one command with the configured deadline.
func (s *session) execute(ctx context.Context, id, corr string, cmd model.Command) (model.Request, model.Result, error) {
	req := model.Request{CorrelationID: corr, DeviceID: id, Command: cmd, Deadline: time.Now().Add(s.cfg.CommandDeadline)}
	cctx, cancel := context.WithDeadline(ctx, req.Deadline.Add(time.Second))
	defer cancel()
	resp, err := s.client.Execute(cctx, convert.Request(req))
	overran := !time.Now().Before(req.Deadline.Add(-10 * time.Millisecond))
	if err != nil {
		if overran {
			return req, model.Result{}, s.overran(err)
		}
		return req, model.Result{}, fmt.Errorf("the execute RPC failed (errors must be typed answers, not transport errors): %w", err)
	}
	res, err := convert.ResultFrom(resp)
	if err != nil && overran {
		// Not a device error: the bridge's own Execute kept the command past its
		// deadline (the SDK answered UNREACHABLE for it).
		return req, res, s.overran(err)
	}
	return req, res, err
}

// overran describes a command whose Execute did not return in time.
func (s *session) overran(err error) error {
	secs := strconv.FormatFloat(s.cfg.CommandDeadline.Seconds(), 'f', -1, 64)
	return fmt.Errorf("the bridge's Execute did not return before its deadline (%s s); it must answer (or return Accepted and complete later) "+
		"within the request's deadline, and return when its context ends: %w", secs, err)
}
