package broker

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/packets"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var retainedBucket = []byte("retained")

// retainedStore is a mochi storage hook that keeps retained messages (and
// nothing else: sessions are not persisted) in a bbolt file.
type retainedStore struct {
	mqtt.HookBase
	db *bbolt.DB
}

// ID names the hook.
func (h *retainedStore) ID() string { return "avshub-retained" }

// Provides says which hook methods are implemented.
func (h *retainedStore) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnRetainMessage, mqtt.OnRetainedExpired, mqtt.StoredRetainedMessages}, []byte{b})
}

// Init opens (creating) the store; config is the file path.
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
	return nil
}

// Stop closes the store.
func (h *retainedStore) Stop() error {
	if h.db == nil {
		return nil
	}
	err := h.db.Close()
	h.db = nil
	return err
}

// OnRetainMessage stores or (r == -1: empty payload) deletes a topic's retained message.
func (h *retainedStore) OnRetainMessage(cl *mqtt.Client, pk packets.Packet, r int64) {
	if h.db == nil {
		return
	}
	key := []byte(pk.TopicName)
	var err error
	if r == -1 || len(pk.Payload) == 0 {
		err = h.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(retainedBucket).Delete(key) })
	} else {
		props := pk.Properties.Copy(false)
		m := storage.Message{
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
		}
		var v []byte
		if v, err = m.MarshalBinary(); err == nil {
			err = h.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(retainedBucket).Put(key, v) })
		}
	}
	if err != nil {
		h.Log.Error("retained message not persisted", "topic", pk.TopicName, "error", err)
	}
}

// OnRetainedExpired deletes an expired retained message.
func (h *retainedStore) OnRetainedExpired(topic string) {
	if h.db == nil {
		return
	}
	_ = h.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(retainedBucket).Delete([]byte(topic)) })
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
