package broker

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/packets"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var retainedBucket = []byte("retained")

// retainedStore is a mochi storage hook that keeps retained messages (and
// nothing else: sessions are not persisted) in a bbolt file. Mochi calls it
// in the publishing client's turn, so it does not write there: it notes the
// topic's latest message, and one goroutine writes what was noted in one
// transaction (one fsync) at a time. A client's flood of retained messages
// thus costs a few transactions instead of one each (at about 4 ms each,
// 12,000 of them held the client's next PUBACK for most of a minute), and
// what is noted is bounded by the retained topics. A crash loses at most the
// messages of the transaction under way.
type retainedStore struct {
	mqtt.HookBase
	db *bbolt.DB

	mu      sync.Mutex
	pending map[string]*storage.Message // topic → latest message; nil: delete
	wake    chan struct{}               // cap 1: something is pending
	stop    chan struct{}
	done    chan struct{} // closed when the writer has ended
}

// ID names the hook.
func (h *retainedStore) ID() string { return "avshub-retained" }

// Provides says which hook methods are implemented.
func (h *retainedStore) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnRetainMessage, mqtt.OnRetainedExpired, mqtt.StoredRetainedMessages}, []byte{b})
}

// Init opens (creating) the store and starts its writer; config is the file path.
func (h *retainedStore) Init(config any) error {
	path, ok := config.(string)
	if !ok || path == "" {
		return mqtt.ErrInvalidConfigType
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return fmt.Errorf("%s is locked by another process", path)
		}
		return err
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(retainedBucket)
		return err
	}); err != nil {
		_ = db.Close()
		return err
	}
	h.db = db
	h.pending = map[string]*storage.Message{}
	h.wake = make(chan struct{}, 1)
	h.stop = make(chan struct{})
	h.done = make(chan struct{})
	go h.writer()
	return nil
}

// writer writes what is pending until Stop, then what is left.
func (h *retainedStore) writer() {
	defer close(h.done)
	for {
		select {
		case <-h.wake:
			h.flush()
		case <-h.stop:
			h.flush()
			return
		}
	}
}

// flush writes every pending message (or deletion) in one transaction.
func (h *retainedStore) flush() {
	h.mu.Lock()
	batch := h.pending
	h.pending = map[string]*storage.Message{}
	h.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	err := h.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(retainedBucket)
		for topic, m := range batch {
			if m == nil {
				if err := bk.Delete([]byte(topic)); err != nil {
					return err
				}
				continue
			}
			v, err := m.MarshalBinary()
			if err != nil {
				return fmt.Errorf("topic %s: %w", topic, err)
			}
			if err := bk.Put([]byte(topic), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.Log.Error("retained messages not persisted", "messages", len(batch), "error", err)
	}
}

// note makes m (nil: a deletion) topic's pending change and wakes the writer.
func (h *retainedStore) note(topic string, m *storage.Message) {
	h.mu.Lock()
	h.pending[topic] = m
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Stop writes what is pending and closes the store.
func (h *retainedStore) Stop() error {
	if h.db == nil {
		return nil
	}
	close(h.stop)
	<-h.done
	err := h.db.Close()
	h.db = nil
	return err
}

// OnRetainMessage notes a topic's retained message, or (r == -1: empty payload) its deletion.
func (h *retainedStore) OnRetainMessage(cl *mqtt.Client, pk packets.Packet, r int64) {
	if h.db == nil {
		return
	}
	if r == -1 || len(pk.Payload) == 0 {
		h.note(pk.TopicName, nil)
		return
	}
	props := pk.Properties.Copy(false)
	h.note(pk.TopicName, &storage.Message{
		ID:          storage.RetainedKey + "_" + pk.TopicName,
		T:           storage.RetainedKey,
		FixedHeader: pk.FixedHeader,
		TopicName:   pk.TopicName,
		Payload:     pk.Payload,
		Created:     pk.Created,
		Origin:      pk.Origin,
		Properties: storage.MessageProperties{
			PayloadFormat:         props.PayloadFormat,
			MessageExpiryInterval: props.MessageExpiryInterval,
			ContentType:           props.ContentType,
			ResponseTopic:         props.ResponseTopic,
			CorrelationData:       props.CorrelationData,
			User:                  props.User,
		},
	})
}

// OnRetainedExpired deletes an expired retained message.
func (h *retainedStore) OnRetainedExpired(topic string) {
	if h.db == nil {
		return
	}
	h.note(topic, nil)
}

// StoredRetainedMessages returns every stored retained message; unreadable records are skipped.
func (h *retainedStore) StoredRetainedMessages() ([]storage.Message, error) {
	if h.db == nil {
		return nil, storage.ErrDBFileNotOpen
	}
	var out []storage.Message
	err := h.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(retainedBucket).ForEach(func(k, v []byte) error {
			var m storage.Message
			if err := m.UnmarshalBinary(v); err != nil {
				h.Log.Warn("unreadable retained message skipped", "topic", string(k), "error", err)
				return nil
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}
