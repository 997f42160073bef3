package avs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseContentType(t *testing.T) {
	cases := []struct {
		in, mt, boundary string
		ok               bool
	}{
		{"multipart/related; boundary=------abcde123; type=application/json", "multipart/related", "------abcde123", true},
		{`multipart/related; boundary="b 1"; type="application/json"`, "multipart/related", "b 1", true},
		{"multipart/form-data; boundary=WhooHooZeerOoonie!", "multipart/form-data", "WhooHooZeerOoonie!", true},
		{"multipart/related; type=application/json", "", "", false},
		{"application/json", "", "", false},
		{"", "", "", false},
		{"multipart/related; boundary=" + strings.Repeat("x", 300), "", "", false},
	}
	for _, tc := range cases {
		mt, b, err := ParseContentType(tc.in)
		if (err == nil) != tc.ok || mt != tc.mt || b != tc.boundary {
			t.Errorf("ParseContentType(%q) = %q, %q, %v", tc.in, mt, b, err)
		}
		if err != nil && !errors.Is(err, ErrMultipart) {
			t.Errorf("error %v does not wrap ErrMultipart", err)
		}
	}
}

type part struct{ header, body string }

func readAll(t *testing.T, body, boundary string) ([]part, error) {
	t.Helper()
	mr := NewMultipartReader(strings.NewReader(body), boundary)
	var out []part
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return out, err
		}
		out = append(out, part{p.Header.Get("Content-Type") + "|" + p.ContentID(), string(b)})
	}
}

func TestMultipartReader(t *testing.T) {
	const b = "------abc"
	cases := []struct {
		name    string
		body    string
		want    []part
		wantErr bool
	}{
		{"event response", "--" + b + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"directive\":{}}\r\n--" + b + "--\r\n",
			[]part{{"application/json; charset=UTF-8|", `{"directive":{}}`}}, false},
		{"preamble and binary by Content-ID", "preamble\r\n--" + b + "\r\nContent-Type: application/json\r\n\r\n{}\r\n--" + b +
			"\r\nContent-Type: application/octet-stream\r\nContent-ID: <audio-1>\r\n\r\n\x00\x01\r\n--\xff\r\n--" + b + "--",
			[]part{{"application/json|", "{}"}, {"application/octet-stream|audio-1", "\x00\x01\r\n--\xff"}}, false},
		{"body holding a near-boundary", "--" + b + "\r\n\r\nx\r\n--" + "------ab" + "\r\n--" + b + "--\r\n",
			[]part{{"|", "x\r\n--------ab"}}, false},
		{"folded header", "--" + b + "\r\nContent-Type: application/json;\r\n charset=UTF-8\r\n\r\n{}\r\n--" + b + "--\r\n",
			[]part{{"application/json; charset=UTF-8|", "{}"}}, false},
		{"empty multipart", "--" + b + "--\r\n", nil, false},
		{"truncated body", "--" + b + "\r\n\r\n{\"dir", nil, true},
		{"truncated headers", "--" + b + "\r\nContent-Type: appl", nil, true},
		{"junk after boundary", "--" + b + "\r\n\r\n{}\r\n--" + b + "junk\r\n", []part{{"|", "{}"}}, true},
		{"malformed header", "--" + b + "\r\nno colon here\r\n\r\n{}\r\n--" + b + "--", nil, true},
		{"no boundary at all", strings.Repeat("x\n", 40000), nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.body, b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("parts = %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("part %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestMultipartIncremental: a part is delivered as soon as AVS wrote it and
// the delimiter after it, while the stream stays open (the downchannel).
func TestMultipartIncremental(t *testing.T) {
	const b = "------xyz"
	pr, pw := io.Pipe()
	defer pw.Close()
	mr := NewMultipartReader(pr, b)
	parts := []string{`{"directive":{"n":1}}`, `{"directive":{"n":2}}`}
	got := make(chan string)
	go func() {
		defer close(got)
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			body, err := io.ReadAll(p)
			if err != nil {
				return
			}
			got <- string(body)
		}
	}()
	write := func(s string) {
		if _, err := io.WriteString(pw, s); err != nil {
			t.Fatal(err)
		}
	}
	write("--" + b + "\r\n")
	for _, p := range parts {
		write("Content-Type: application/json; charset=UTF-8\r\n\r\n" + p + "\r\n--" + b + "\r\n")
		select {
		case g := <-got:
			if g != p {
				t.Fatalf("got %q, want %q", g, p)
			}
		case <-time.After(10 * time.Second): // watchdog against a hang, not a timing goal
			t.Fatal("part not delivered while the stream is open")
		}
	}
}

// TestMultipartSmallReads reads parts through a reader that returns one byte at a time.
func TestMultipartSmallReads(t *testing.T) {
	const b = "bnd"
	body := "--bnd\r\n\r\nhello\r\n-\r\n--bn\r\n--bnd\r\n\r\nworld\r\n--bnd--\r\n"
	mr := NewMultipartReader(&oneByte{r: strings.NewReader(body)}, b)
	var got []string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		one := make([]byte, 1)
		for {
			n, err := p.Read(one)
			buf.Write(one[:n])
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, buf.String())
	}
	if strings.Join(got, "|") != "hello\r\n-\r\n--bn|world" {
		t.Errorf("parts = %q", got)
	}
}

type oneByte struct{ r io.Reader }

func (o *oneByte) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	return o.r.Read(b[:1])
}

func TestFormBody(t *testing.T) {
	ev := []byte(`{"event":{"header":{"namespace":"System","name":"SynchronizeState","messageId":"1"},"payload":{}}}`)
	body, ct := formBody(ev)
	mt, boundary, err := ParseContentType(ct)
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q: %v", ct, err)
	}
	mr := NewMultipartReader(bytes.NewReader(body), boundary)
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(p)
	if p.FormName() != "metadata" || p.MediaType() != "application/json" || !bytes.Equal(got, ev) {
		t.Errorf("part %q %q = %s", p.FormName(), p.MediaType(), got)
	}
	if _, err := mr.NextPart(); !errors.Is(err, io.EOF) {
		t.Errorf("after the only part: %v", err)
	}
}

func TestDecodeDirectiveHeader(t *testing.T) {
	cases := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`{"directive":{"header":{"namespace":"Alexa","name":"EventProcessed","eventCorrelationToken":"t"},"payload":{}}}`, "Alexa.EventProcessed", true},
		{`{"directive":{"header":{"namespace":"Alexa"}}}`, "", false},
		{`{"directive":{}}`, "", false},
		{`{"event":{}}`, "", false},
		{`{"directive":{"header":{"namespace":"A","name":"B"}}} {}`, "", false},
		{`[]`, "", false},
		{``, "", false},
	}
	for _, tc := range cases {
		h, _, err := DecodeDirectiveHeader([]byte(tc.raw))
		if (err == nil) != tc.ok || (tc.ok && h.Qualified() != tc.want) {
			t.Errorf("DecodeDirectiveHeader(%s) = %v, %v", tc.raw, h, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("error %v does not wrap ErrMalformed", err)
		}
	}
}

func TestParseException(t *testing.T) {
	cases := []struct {
		status     int
		body       string
		code, desc string
	}{
		{429, `{"header":{"namespace":"System","name":"Exception","messageId":"m"},"payload":{"code":"THROTTLING_EXCEPTION","description":"Request could not be processed due to throttling."}}`,
			"THROTTLING_EXCEPTION", "Request could not be processed due to throttling."},
		{500, `{"payload":{"code":"INTERNAL_SERVICE_EXCEPTION","description":null}}`, "INTERNAL_SERVICE_EXCEPTION", ""},
		{503, ``, "", ""},
		{502, `<html>bad gateway</html>`, "", ""},
	}
	for _, tc := range cases {
		e := parseException(tc.status, []byte(tc.body))
		if e.Status != tc.status || e.Code != tc.code || e.Description != tc.desc {
			t.Errorf("parseException(%d, %s) = %+v", tc.status, tc.body, e)
		}
	}
}

func TestWithScope(t *testing.T) {
	in := []byte(`{"event":{"header":{"namespace":"Alexa.Discovery","name":"DeleteReport"},"payload":{"endpoints":[{"endpointId":"a"}]}}}`)
	out := string(withScope(in, "Atza|tok"))
	if !strings.Contains(out, `"scope":{"token":"Atza|tok","type":"BearerToken"}`) || !strings.Contains(out, `"endpointId":"a"`) {
		t.Errorf("withScope = %s", out)
	}
}

func TestBackoffRange(t *testing.T) {
	for i := range 100 {
		d := retryDelay(DefaultBackoff, i%8)
		v := DefaultBackoff[min(i%8, len(DefaultBackoff)-1)]
		if d < v*2/3-time.Millisecond || d > v*3/2 {
			t.Fatalf("retryDelay(%d) = %v outside [%v, %v]", i%8, d, v*2/3, v*3/2)
		}
	}
}

func TestRegionURL(t *testing.T) {
	for _, tc := range []struct {
		region string
		legacy bool
		want   string
	}{
		{"", false, "https://alexa.na.gateway.devices.a2z.com"},
		{"eu", false, "https://alexa.eu.gateway.devices.a2z.com"},
		{"FE", true, "https://avs-alexa-fe.amazon.com"},
	} {
		if got, err := RegionURL(tc.region, tc.legacy); err != nil || got != tc.want {
			t.Errorf("RegionURL(%q, %v) = %q, %v", tc.region, tc.legacy, got, err)
		}
	}
	if _, err := RegionURL("XX", false); err == nil {
		t.Error("unknown region accepted")
	}
	for _, bad := range []string{"http://x", "https://", "https://x/path", "::"} {
		if _, err := checkBaseURL(bad); err == nil {
			t.Errorf("checkBaseURL(%q) accepted", bad)
		}
	}
}
