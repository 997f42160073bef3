package z2msim

import (
	"fmt"
	"sort"
	"time"
)

// What zigbee2mqtt 2.14.1 does when a device is slow, asleep or refuses a
// command (issue 12's runs of the real zigbee2mqtt driving znp-sim):
//
//   - A lock acknowledges lockDoor/unlockDoor at once and moves its bolt
//     afterwards: zigbee2mqtt publishes the state at once with "state": null
//     (unknown; lock_state still the old value) and the real state when the
//     lock reports it, about 3 s later (Options.LockDelay).
//   - A device that does not answer (a sleeping radiator valve, a bulb off
//     the mesh while still shown online): nothing is published for the
//     command; when herdsman gives up, zigbee2mqtt logs
//     "Publish 'set' '<key>' to '<name>' failed: '<error>'" at level error,
//     which reaches bridge/logging (Options.SendTimeout after the /set).
//   - A command the device refuses (a converter error or a ZCL failure
//     status): the same log line at once, and no state for that key.

// DefaultLockDelay is how long a simulated lock's bolt takes to move.
const DefaultLockDelay = 3 * time.Second

// DefaultSendTimeout is how long zigbee2mqtt waits for a device that does
// not answer before it logs the command as failed.
const DefaultSendTimeout = 10 * time.Second

// SetAsleep makes a device take no commands and answer nothing while it
// stays online in zigbee2mqtt (a sleeping radiator valve, a bulb off the mesh).
func (s *Sim) SetAsleep(name string, asleep bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.byName(name)
	if d == nil {
		return fmt.Errorf("%w: %q", ErrUnknownDevice, name)
	}
	d.asleep = asleep
	return nil
}

// SetRefused makes a device refuse commands that set the given properties
// (none: accept everything again), as a product that lacks a command does.
func (s *Sim) SetRefused(name string, props ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.byName(name)
	if d == nil {
		return fmt.Errorf("%w: %q", ErrUnknownDevice, name)
	}
	d.refused = map[string]bool{}
	for _, p := range props {
		d.refused[p] = true
	}
	return nil
}

// logFailed publishes zigbee2mqtt's error log line for a failed /set.
func (s *Sim) logFailed(name, key, err string) {
	msg := fmt.Sprintf("Publish 'set' '%s' to '%s' failed: '%s'", key, name, err)
	s.log.Info("z2m-sim: "+msg, "device", name)
	s.publish(s.opts.BaseTopic+"/bridge/logging", mustJSON(map[string]any{"level": "error", "message": msg, "namespace": "z2m"}), false)
}

// after runs f once d has passed, unless the simulator closes first.
func (s *Sim) after(d time.Duration, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.timers = append(s.timers, time.AfterFunc(d, func() {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.running.Add(1)
		s.mu.Unlock()
		defer s.running.Done()
		f()
	}))
}

// stopTimers stops every pending delayed action and waits for those
// running (Close).
func (s *Sim) stopTimers() {
	s.mu.Lock()
	s.closed = true
	ts := s.timers
	s.timers = nil
	s.mu.Unlock()
	for _, t := range ts {
		t.Stop()
	}
	s.running.Wait()
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
