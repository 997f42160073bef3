package plugintest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// silentFake is a bridge whose devices never answer, with one way of
// handling that.
type silentFake struct {
	*fake
	mode string // "honest", "claims-done", "overruns", "fails-at-once"

	mu sync.Mutex
	em sdk.Emitter
	wg sync.WaitGroup
}

func (f *silentFake) Run(ctx context.Context, em sdk.Emitter) error {
	f.mu.Lock()
	f.em = em
	f.mu.Unlock()
	err := f.fake.Run(ctx, em)
	f.wg.Wait()
	return err
}

func (f *silentFake) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	switch f.mode {
	case "claims-done":
		return f.fake.Execute(ctx, req)
	case "overruns":
		<-ctx.Done()
		return model.Result{}, ctx.Err()
	case "fails-at-once":
		return model.Result{}, model.Errorf(model.ErrUnreachable, "no answer")
	}
	f.mu.Lock()
	em := f.em
	f.wg.Add(1)
	f.mu.Unlock()
	go func() {
		defer f.wg.Done()
		time.Sleep(50 * time.Millisecond)
		em.Complete(req.CorrelationID, model.State{}, model.Errorf(model.ErrUnreachable, "the device did not confirm"))
	}()
	return model.Result{Status: model.Accepted}, nil
}

func TestSilentDevicesCheck(t *testing.T) {
	tests := []struct {
		mode string
		want []string
	}{
		{"honest", nil},
		{"fails-at-once", nil},
		{"claims-done", []string{"silent-devices"}},
		{"overruns", []string{"silent-devices"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			f := &silentFake{fake: newFake(), mode: tt.mode}
			got := record(t, f, Config{SilentDevices: true, CommandDeadline: 300 * time.Millisecond})
			if !slices.Equal(got, tt.want) {
				t.Errorf("failed checks %v, want %v", got, tt.want)
			}
		})
	}
}
