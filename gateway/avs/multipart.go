package avs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
	"io"
	"mime"
	"net/textproto"
	"strings"
)

// Limits of the multipart reader: a peer cannot make it hold more than this.
const (
	maxBoundaryLen  = 200      // RFC 2046 allows 70; leave room for odd peers
	maxHeaderBytes  = 16 << 10 // all header lines of one part
	maxPreamble     = 64 << 10 // bytes skipped before the first boundary
	multipartBufLen = 32 << 10
)

// ErrMultipart is wrapped by every framing error of the multipart reader.
var ErrMultipart = errors.New("avs: malformed multipart body")

// ParseContentType parses a multipart Content-Type header value and returns its
// media type and boundary. It accepts Amazon's unquoted parameter values
// (`type=application/json`), which mime.ParseMediaType rejects.
func ParseContentType(v string) (mediaType, boundary string, err error) {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		mt, params, err = mime.ParseMediaType(quoteParams(v))
		if err != nil {
			return "", "", fmt.Errorf("%w: content type %q: %w", ErrMultipart, v, err)
		}
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return "", "", fmt.Errorf("%w: content type %q is not multipart", ErrMultipart, mt)
	}
	b := params["boundary"]
	if b == "" || len(b) > maxBoundaryLen {
		return "", "", fmt.Errorf("%w: content type %q has no usable boundary", ErrMultipart, v)
	}
	return mt, b, nil
}

// quoteParams quotes every unquoted parameter value that holds characters a
// token may not (such as the '/' of type=application/json).
func quoteParams(v string) string {
	parts := strings.Split(v, ";")
	for i := 1; i < len(parts); i++ {
		k, val, ok := strings.Cut(parts[i], "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if val == "" || strings.HasPrefix(val, `"`) {
			continue
		}
		val = strings.ReplaceAll(strings.ReplaceAll(val, `\`, `\\`), `"`, `\"`)
		parts[i] = k + `="` + val + `"`
	}
	return strings.Join(parts, ";")
}

// MultipartReader reads a multipart/related (or form-data) stream part by part
// without buffering it: a part is available as soon as the delimiter that ends
// it has arrived, so it suits AVS's downchannel, which never ends.
type MultipartReader struct {
	br       *bufio.Reader
	delim    []byte // "\r\n--" + boundary
	cur      *Part
	started  bool
	finished bool
}

// NewMultipartReader returns a reader of the parts of r delimited by boundary.
func NewMultipartReader(r io.Reader, boundary string) *MultipartReader {
	return &MultipartReader{br: bufio.NewReaderSize(r, multipartBufLen), delim: []byte("\r\n--" + boundary)}
}

// Part is one part of a multipart body; it reads the part's body.
type Part struct {
	// Header holds the part's MIME headers.
	Header textproto.MIMEHeader
	m      *MultipartReader
	done   bool
}

// ContentID returns the part's Content-ID without its angle brackets.
func (p *Part) ContentID() string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(p.Header.Get("Content-Id")), "<"), ">")
}

// MediaType returns the part's media type ("" when absent or unparsable).
func (p *Part) MediaType() string {
	v := p.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		mt, _, err = mime.ParseMediaType(quoteParams(v))
		if err != nil {
			return ""
		}
	}
	return mt
}

// FormName returns the name parameter of a form-data Content-Disposition.
func (p *Part) FormName() string {
	d, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil || d != "form-data" {
		return ""
	}
	return params["name"]
}

// Read reads the part's body; it returns io.EOF at the part's delimiter.
func (p *Part) Read(b []byte) (int, error) {
	if p.done {
		return 0, io.EOF
	}
	if len(b) == 0 {
		return 0, nil
	}
	m := p.m
	dl := len(m.delim)
	for {
		n := m.br.Buffered()
		if n == 0 {
			n = 1
		}
		buf, err := m.br.Peek(n)
		if len(buf) == 0 {
			return 0, unexpected(err)
		}
		i := bytes.Index(buf, m.delim)
		if i >= 0 {
			if i > 0 {
				k := copy(b, buf[:min(i, len(buf))])
				_, _ = m.br.Discard(k)
				return k, nil
			}
			p.done = true
			return 0, io.EOF
		}
		// No delimiter: everything but a possible delimiter prefix at the end is body.
		safe := len(buf) - (dl - 1)
		if j := lastPrefixStart(buf, m.delim); j >= 0 {
			safe = min(safe, j)
		}
		if safe > 0 {
			k := copy(b, buf[:safe])
			_, _ = m.br.Discard(k)
			return k, nil
		}
		if err != nil {
			return 0, unexpected(err)
		}
		// Wait for more bytes to decide.
		if _, err := m.br.Peek(len(buf) + 1); err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return 0, unexpected(err)
		}
	}
}

// lastPrefixStart returns where a proper prefix of delim starts at the end of
// buf (-1 if buf does not end with one).
func lastPrefixStart(buf, delim []byte) int {
	start := max(0, len(buf)-len(delim)+1)
	for j := start; j < len(buf); j++ {
		if buf[j] == delim[0] && bytes.HasPrefix(delim, buf[j:]) {
			return j
		}
	}
	return -1
}

func unexpected(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// NextPart returns the next part, io.EOF after the closing delimiter, or an
// error wrapping ErrMultipart (or the stream's read error). The previous part's
// unread body is skipped.
func (m *MultipartReader) NextPart() (*Part, error) {
	if m.finished {
		return nil, io.EOF
	}
	if m.cur != nil {
		if _, err := io.Copy(io.Discard, m.cur); err != nil {
			return nil, err
		}
		m.cur = nil
	}
	if !m.started {
		if err := m.skipPreamble(); err != nil {
			return nil, err
		}
		m.started = true
	} else {
		// At the delimiter that ended the previous part.
		if _, err := m.br.Discard(len(m.delim)); err != nil {
			return nil, unexpected(err)
		}
		if err := m.afterBoundary(); err != nil {
			return nil, err
		}
	}
	if m.finished {
		return nil, io.EOF
	}
	h, err := m.readHeader()
	if err != nil {
		return nil, err
	}
	m.cur = &Part{Header: h, m: m}
	return m.cur, nil
}

// skipPreamble reads up to and including the first "--boundary" line.
func (m *MultipartReader) skipPreamble() error {
	dash := m.delim[2:]
	skipped := 0
	for {
		line, err := m.readLine(maxPreamble)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(line, dash) {
			rest := line[len(dash):]
			if bytes.HasPrefix(rest, []byte("--")) {
				m.finished = true
				return nil
			}
			if len(bytes.TrimRight(rest, " \t\r\n")) == 0 {
				return nil
			}
		}
		skipped += len(line)
		if skipped > maxPreamble {
			return fmt.Errorf("%w: no boundary in the first %d bytes", ErrMultipart, maxPreamble)
		}
	}
}

// afterBoundary consumes what follows a delimiter: "--" (close) or padding and a line end.
func (m *MultipartReader) afterBoundary() error {
	b, err := m.br.Peek(2)
	if err != nil && len(b) < 2 {
		return unexpected(err)
	}
	if b[0] == '-' && b[1] == '-' {
		m.finished = true
		return nil
	}
	line, err := m.readLine(256)
	if err != nil {
		return err
	}
	if len(bytes.TrimRight(line, " \t\r\n")) != 0 {
		return fmt.Errorf("%w: unexpected data after a boundary", ErrMultipart)
	}
	return nil
}

// readLine reads one line (with its "\n") of at most limit bytes.
func (m *MultipartReader) readLine(limit int) ([]byte, error) {
	var out []byte
	for {
		frag, err := m.br.ReadSlice('\n')
		out = append(out, frag...)
		if len(out) > limit {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrMultipart, limit)
		}
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, unexpected(err)
		}
	}
}

// readHeader reads MIME header lines up to the empty line.
func (m *MultipartReader) readHeader() (textproto.MIMEHeader, error) {
	h := textproto.MIMEHeader{}
	total := 0
	var lastKey string
	for {
		line, err := m.readLine(maxHeaderBytes)
		if err != nil {
			return nil, err
		}
		total += len(line)
		if total > maxHeaderBytes {
			return nil, fmt.Errorf("%w: part header longer than %d bytes", ErrMultipart, maxHeaderBytes)
		}
		s := strings.TrimRight(string(line), "\r\n")
		if s == "" {
			return h, nil
		}
		if (s[0] == ' ' || s[0] == '\t') && lastKey != "" {
			vs := h[lastKey]
			vs[len(vs)-1] += " " + strings.TrimSpace(s)
			continue
		}
		k, v, ok := strings.Cut(s, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%w: malformed part header line %q", ErrMultipart, model.Abbreviate(s, 80))
		}
		lastKey = textproto.CanonicalMIMEHeaderKey(k)
		h[lastKey] = append(h[lastKey], strings.TrimSpace(v))
	}
}
