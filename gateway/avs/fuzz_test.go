package avs

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzMultipartReader: whatever a peer sends, the reader returns parts or an
// error, never panics, and never hands out more bytes than it was given.
func FuzzMultipartReader(f *testing.F) {
	f.Add([]byte("--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--\r\n"), "b")
	f.Add([]byte("--------abc\r\nContent-ID: <x>\r\n\r\n\x00\r\n--------abc\r\n\r\n\r\n--------abc--"), "------abc")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		if boundary == "" {
			return
		}
		mr := NewMultipartReader(bytes.NewReader(body), boundary)
		total := 0
		for range 1000 {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			_ = p.ContentID()
			_ = p.MediaType()
			b, err := io.ReadAll(p)
			total += len(b)
			if total > len(body) {
				t.Fatalf("read %d body bytes from a %d-byte input", total, len(body))
			}
			if err != nil {
				return
			}
		}
	})
}

// FuzzMultipartRoundTrip: parts written in AVS's framing come back unchanged.
func FuzzMultipartRoundTrip(f *testing.F) {
	f.Add([]byte(`{"directive":{}}`), []byte("\x00\x01audio"))
	f.Add([]byte("\r\n--"), []byte("--\r\n"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		const boundary = "------5f8a426e01e44cc9"
		if bytes.Contains(a, []byte(boundary)) || bytes.Contains(b, []byte(boundary)) {
			return
		}
		var body bytes.Buffer
		body.WriteString("--" + boundary + "\r\n")
		for _, p := range [][]byte{a, b} {
			body.WriteString("Content-Type: application/octet-stream\r\n\r\n")
			body.Write(p)
			body.WriteString("\r\n--" + boundary + "\r\n")
		}
		mr := NewMultipartReader(bytes.NewReader(body.Bytes()), boundary)
		for i, want := range [][]byte{a, b} {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			got, err := io.ReadAll(p)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("part %d = %q, %v; want %q", i, got, err, want)
			}
		}
		// The stream ends without a closing delimiter: that is an unexpected EOF.
		if _, err := mr.NextPart(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("after the last part: %v", err)
		}
	})
}

// FuzzParseContentType never panics and returns a boundary only for multipart types.
func FuzzParseContentType(f *testing.F) {
	f.Add("multipart/related; boundary=------abcde123; type=application/json")
	f.Add(`multipart/form-data; boundary="a;b"`)
	f.Fuzz(func(t *testing.T, v string) {
		mt, b, err := ParseContentType(v)
		if err == nil && (b == "" || len(mt) < len("multipart/")) {
			t.Fatalf("ParseContentType(%q) = %q, %q", v, mt, b)
		}
	})
}

// FuzzDecodeDirectiveHeader never panics; success means namespace and name are set.
func FuzzDecodeDirectiveHeader(f *testing.F) {
	f.Add([]byte(`{"directive":{"header":{"namespace":"Alexa.PowerController","name":"TurnOn","messageId":"m","correlationToken":"c","payloadVersion":"3"},"endpoint":{"endpointId":"e"},"payload":{}}}`))
	f.Add([]byte(`{"directive":{"header":{"namespace":"Alexa","name":"EventProcessed","eventCorrelationToken":"t"}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, _, err := DecodeDirectiveHeader(raw)
		if err == nil && (h.Namespace == "" || h.Name == "") {
			t.Fatalf("accepted %q without namespace or name", raw)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}
