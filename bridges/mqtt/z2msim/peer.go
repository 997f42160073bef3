package z2msim

import (
	"fmt"
	"sort"
	"time"
)

// What zigbee2mqtt 2.14.1 does when a device is slow, asleep or refuses a
// command, as recorded driving znp-sim's products through it (RecordingFile,
// written by gateway/hub's TestChainRealZigbee2MQTT; TestReplayRealZigbee2MQTT
// holds z2m-sim to it):
//
//   - Every state it publishes carries, as null, the properties its Home
//     Assistant integration reads and it does not know yet (the top-level
//     exposes but actions: a light's effect, identify and
//     power_on_behavior, a lock's pin_code and auto_relock_time).
//   - A light publishes its state at once (10–60 ms).
//   - A lock acknowledges lockDoor/unlockDoor and publishes nothing until its
//     bolt has moved (Options.LockDelay, 3 s): then its state from the
//     lockState report, the same with the operation event (action,
//     action_source, action_source_name, action_user, not kept in the
//     state), and the action on <device>/action.
//   - A device that does not answer (a bulb off the mesh while still shown
//     online, a sleeping valve): nothing is published; when herdsman gives
//     up (Options.SendTimeout, 23 s) zigbee2mqtt logs
//     "z2m: Publish 'set' '<key>' to '<name>' failed: '<error>'" at level
//     error on bridge/logging. A command its converter sends without
//     awaiting an answer (the Danfoss setpoint) is never logged.
//   - A command the device refuses with a failure status: the same log line
//     at once and no state for that key; again nothing at all for a command
//     sent without awaiting an answer (the Danfoss refuses a setpoint beyond
//     its limits in silence).

// DefaultLockDelay is how long a simulated lock's bolt takes to move.
const DefaultLockDelay = 3 * time.Second

// DefaultSendTimeout is how long zigbee2mqtt waits for a device that does
// not answer before it logs the command as failed: herdsman's 10 s
// request timeout, its recovery and a second try (23.1 s in the recording).
const DefaultSendTimeout = 23 * time.Second

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
	msg := fmt.Sprintf("z2m: Publish 'set' '%s' to '%s' failed: '%s'", key, name, err)
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
