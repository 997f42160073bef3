package dashboard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestRecorder(t *testing.T) {
	var buf bytes.Buffer
	rec, failures := Recorder(&buf)
	rec("avshub/status", true, []byte("online"))
	rec("avshub/x/state", true, []byte(`{"state":"ON","note":"<&>"}`))
	rec("homeassistant/device/avshub_x/config", true, nil)
	var got []RecordedMessage
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m RecordedMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, m)
	}
	want := []RecordedMessage{{"avshub/status", true, "online"}, {"avshub/x/state", true, `{"state":"ON","note":"<&>"}`},
		{"homeassistant/device/avshub_x/config", true, ""}}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if failures() != 0 {
		t.Fatal("failures reported")
	}
	bad, failures := Recorder(failWriter{})
	bad("t", false, nil)
	if failures() != 1 {
		t.Fatalf("failures = %d, want 1", failures())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
