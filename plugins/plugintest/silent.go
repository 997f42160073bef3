package plugintest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// silentChecks run instead of the usual behavioural checks when
// Config.SilentDevices is set: the bridge's devices never answer.
var silentChecks = []check{
	{name: "describe", run: checkDescribe},
	{name: "configure", run: checkConfigure},
	{name: "snapshot-first", run: checkSnapshotFirst},
	{name: "silent-devices", run: checkSilentDevices, sendsCommands: true},
}

// checkSilentDevices sends every valid command to every reachable device at
// once (then waits for the completions one by one: waitFor has one reader). Devices that never answer (a sleeping radiator valve, a bulb off the
// mesh that its network still shows online) did nothing, so each command
// must be answered before its deadline with a typed error, or Accepted and
// then completed with a typed error before Config.Timeout ends; never a
// transport error (DeadlineExceeded) and never success.
func checkSilentDevices(ctx context.Context, s *session) error {
	var (
		mu       sync.Mutex
		errs     []error
		accepted []string // correlation ids
		what     = map[string]string{}
		wg       sync.WaitGroup
		n        int
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for _, d := range s.devices {
		if !d.Reachable {
			continue
		}
		for _, cmd := range goodCommands(d) {
			n++
			corr := fmt.Sprintf("plugintest-silent-%d", n)
			wg.Add(1)
			desc := fmt.Sprintf("%s %s", d.Endpoint.DeviceID, cmd)
			go func() {
				defer wg.Done()
				acc, err := s.executeSilent(ctx, d.Endpoint.DeviceID, corr, cmd)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", desc, err))
				}
				if acc {
					accepted = append(accepted, corr)
					what[corr] = desc
				}
			}()
		}
	}
	wg.Wait()
	if n == 0 {
		return errors.New("no reachable device takes a command (give plugintest a config with some)")
	}
	for _, corr := range accepted {
		if err := s.completedWithError(ctx, corr); err != nil {
			fail(fmt.Errorf("%s: %w", what[corr], err))
		}
	}
	return errors.Join(errs...)
}

// executeSilent sends one command to a device that never answers and
// reports whether it was Accepted (its completion still to check).
func (s *session) executeSilent(ctx context.Context, id, corr string, cmd model.Command) (bool, error) {
	req, res, err := s.execute(ctx, id, corr, cmd)
	if late := time.Since(req.Deadline); late > 0 {
		return false, fmt.Errorf("answered %v after its deadline", late.Round(time.Millisecond))
	}
	var de *model.Error
	switch {
	case errors.As(err, &de):
		return false, nil // a typed failure, before the deadline
	case err != nil:
		return false, err
	case res.Status == model.Done:
		return false, fmt.Errorf("answered Done (state %+v) although the device never answered", res.State)
	case res.Status != model.Accepted:
		return false, fmt.Errorf("unknown result status %q", res.Status)
	}
	return true, nil
}

// completedWithError waits for an Accepted command's completion, which
// must be a typed failure.
func (s *session) completedWithError(ctx context.Context, corr string) error {
	i, err := s.waitFor(ctx, "the completion of "+corr, func(_ int, ev model.Event) bool {
		return ev.Kind == model.EventCompletion && ev.Completion.CorrelationID == corr
	})
	if err != nil {
		return fmt.Errorf("accepted but never completed: %w", err)
	}
	if c := s.received()[i].Completion; c.Err == nil {
		return fmt.Errorf("completed as done (state %+v) although the device never answered", c.State)
	}
	return nil
}
