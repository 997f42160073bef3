// Package cleanstore is a paho message store for clean sessions, used by
// every long-lived MQTT client of ours (the hub's dashboard publisher, the
// MQTT bridge, the zigbee2mqtt simulator).
//
// With CleanSession set, the broker forgets a client's in-flight QoS 1
// messages when the connection drops, yet paho 1.5 still "resumes" its stored
// packets after an automatic reconnect, and does so concurrently with new
// publishes (the resume sets the DUP flag on a packet the writer may be
// sending: a data race). Store keeps paho's bookkeeping but lists nothing to
// resume, which is what a clean session means: QoS 1 messages in flight when
// the connection dropped are not resent (their tokens time out and the caller
// sees the failure).
package cleanstore

import paho "github.com/eclipse/paho.mqtt.golang"

// Store is a paho.MemoryStore that never offers packets for resumption.
type Store struct{ *paho.MemoryStore }

// New returns an empty Store.
func New() *Store { return &Store{paho.NewMemoryStore()} }

// All returns nothing, so a reconnect resumes nothing.
func (s *Store) All() []string { return nil }
