package z2msim

import (
	"fmt"
	"sort"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
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
func (s *Sim) logFailed(c cause, name, key, err string) {
	msg := fmt.Sprintf("z2m: Publish 'set' '%s' to '%s' failed: '%s'", key, name, err)
	s.log.Info("z2m-sim: "+msg, "device", name)
	s.answer(c, name, s.opts.BaseTopic+"/bridge/logging", mustJSON(map[string]any{"level": "error", "message": msg, "namespace": "z2m"}), false)
}

// cause is the /set a message answers (the device's set-th) and the delay
// the simulator scheduled the message at after it.
type cause struct {
	set   int
	delay time.Duration
}

// answering counts a device's /sets: numbered, handled, and delayed
// answers still to come.
type answering struct{ sets, done, pending int }

// answer publishes a message in answer to a /set (Options.OnAnswer).
func (s *Sim) answer(c cause, name, topic string, payload []byte, retain bool) paho.Token {
	if s.opts.OnAnswer != nil {
		s.opts.OnAnswer(Answer{Device: name, Set: c.set, Delay: c.delay, Topic: topic, Payload: payload})
	}
	return s.publish(topic, payload, retain)
}

// answerState publishes st (a copy of d's state) as d's state in answer to
// a /set.
func (s *Sim) answerState(c cause, d *device, st map[string]any) paho.Token {
	topic, payload, retain := s.stateMessage(d, st)
	s.mu.Lock()
	name := d.Name
	s.mu.Unlock()
	return s.answer(c, name, topic, payload, retain)
}

// answerAfter runs f, a delayed answer to one of d's /sets, once delay has
// passed (Answers counts it as pending until then).
func (s *Sim) answerAfter(d *device, delay time.Duration, f func()) {
	s.mu.Lock()
	a := s.answering[d]
	a.pending++
	s.mu.Unlock()
	s.after(delay, func() {
		defer func() {
			s.mu.Lock()
			a.pending--
			s.mu.Unlock()
		}()
		f()
	})
}

// Answers returns how many /sets to the named device the simulator has
// handled and how many of their delayed answers (a lock's bolt, a failed
// command's log line) are still to come.
func (s *Sim) Answers(name string) (handled, pending int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.byName(name)
	if d == nil {
		return 0, 0, fmt.Errorf("%w: %q", ErrUnknownDevice, name)
	}
	if a := s.answering[d]; a != nil {
		return a.done, a.pending, nil
	}
	return 0, 0, nil
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
