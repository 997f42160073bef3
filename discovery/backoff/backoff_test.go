package backoff

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name string
		p    Policy
		want []time.Duration // before retries 1, 2, …
	}{
		{"table, last repeats", Policy{Steps: []time.Duration{ms, 2 * ms, 5 * ms}}, []time.Duration{ms, 2 * ms, 5 * ms, 5 * ms, 5 * ms}},
		{"doubling up to max", Policy{Min: 250 * ms, Max: time.Second}, []time.Duration{250 * ms, 500 * ms, time.Second, time.Second}},
		{"doubling without max", Policy{Min: ms}, []time.Duration{ms, 2 * ms, 4 * ms, 8 * ms}},
		{"max below min bounds the first wait", Policy{Min: time.Second, Max: 300 * ms}, []time.Duration{300 * ms, 300 * ms}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for i, w := range c.want {
				if got := c.p.Delay(i + 1); got != w {
					t.Errorf("Delay(%d) = %v, want %v", i+1, got, w)
				}
			}
			if got := c.p.Delay(0); got != c.want[0] {
				t.Errorf("Delay(0) = %v, want the first wait %v", got, c.want[0])
			}
		})
	}
}

func TestDoublingNeverOverflows(t *testing.T) {
	p := Policy{Min: time.Second}
	prev := time.Duration(0)
	for n := 1; n < 200; n++ {
		d := p.Delay(n)
		if d < prev || d <= 0 {
			t.Fatalf("Delay(%d) = %v after %v", n, d, prev)
		}
		prev = d
	}
}

func TestJitterStaysInItsRange(t *testing.T) {
	steps := []time.Duration{time.Second, 10 * time.Second}
	for _, j := range []Jitter{Half, Third} {
		p := Policy{Steps: steps, Jitter: j}
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 2000 {
			d := p.Delay(2)
			lo, hi = min(lo, d), max(hi, d)
			if float64(d) < 10e9*j.Low || float64(d) >= 10e9*j.High {
				t.Fatalf("jitter %+v: %v outside [%g s, %g s)", j, d, 10*j.Low, 10*j.High)
			}
		}
		// 2000 draws fill the range: both ends within 5 % of it.
		if span := 10e9 * (j.High - j.Low); float64(lo) > 10e9*j.Low+span/20 || float64(hi) < 10e9*j.High-span/20 {
			t.Errorf("jitter %+v: draws span only %v–%v", j, lo, hi)
		}
	}
}
