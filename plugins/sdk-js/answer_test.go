package sdkjs

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/avshub/avshub/plugins/sdk"
)

// The JavaScript SDK keeps the same part of a command's time for the answer
// as the Go SDK (sdk.AnswerMargin), and its waitLeft stops waiting that long
// before req.deadline, at most the bridge's own limit.
func TestJSAnswerMarginAgreesWithGo(t *testing.T) {
	node(t)
	lefts := []int{0, 100, 399, 400, 401, 1200, 3999, 4000, 4004, 7000, 60000}
	var in bytes.Buffer
	for _, ms := range lefts {
		fmt.Fprintln(&in, ms)
	}
	// Three more lines: waitLeft for a deadline 1.2 s away (limit 3 s), 10 s
	// away (limit 3 s), and already past.
	in.WriteString("wait 1200 3000\nwait 10000 3000\nwait -50 3000\n")
	script := `const sdk = require('./index.js');
const ts = (ms) => { const at = Date.now() + ms; return { seconds: String(Math.floor(at / 1000)), nanos: (at % 1000) * 1e6 }; };
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (l) => { const f = l.split(' ');
  const v = f[0] === 'wait' ? sdk.waitLeft({ deadline: ts(Number(f[1])) }, Number(f[2])) : sdk.answerMarginMs(Number(f[0]));
  process.stdout.write(String(v) + '\n'); });`
	lines := nodeLines(t, script, &in, len(lefts)+3)
	for i, ms := range lefts {
		got, err := strconv.ParseFloat(string(lines[i]), 64)
		want := float64(sdk.AnswerMargin(time.Duration(ms)*time.Millisecond)) / float64(time.Millisecond)
		if err != nil || got != want {
			t.Errorf("answerMarginMs(%d) = %s, Go's AnswerMargin %v ms", ms, lines[i], want)
		}
	}
	for i, c := range []struct {
		what   string
		lo, hi float64
	}{
		{"1.2 s left, limit 3 s", 600, 900},
		{"10 s left, limit 3 s", 3000, 3000},
		{"past the deadline", 0, 0},
	} {
		line := lines[len(lefts)+i]
		if got, err := strconv.ParseFloat(string(line), 64); err != nil || got < c.lo || got > c.hi {
			t.Errorf("waitLeft, %s = %s ms, want %v–%v", c.what, line, c.lo, c.hi)
		}
	}
}
