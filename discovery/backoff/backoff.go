// Package backoff is avshub's one retry delay, used by the hub (AVS, Login
// with Amazon, the skill's events), the plugin supervisor and the bridges:
// either a table of waits whose last entry repeats, or a wait that doubles
// from a minimum up to a maximum; optionally spread at random so that many
// clients retrying together do not stay in step.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy says how long to wait before each retry.
type Policy struct {
	// Steps are the waits before retries 1, 2, …; the last repeats. When
	// empty, the wait doubles from Min up to Max.
	Steps []time.Duration
	// Min is the first wait of a doubling policy.
	Min time.Duration
	// Max bounds a doubling policy's wait (0: no bound).
	Max time.Duration
	// Jitter spreads each wait at random; the zero Jitter keeps it exact.
	Jitter Jitter
}

// Jitter spreads a wait d uniformly over [d×Low, d×High).
type Jitter struct{ Low, High float64 }

var (
	// Half spreads a wait by ±50 % (the AVS Device SDK's retry tables).
	Half = Jitter{Low: 0.5, High: 1.5}
	// Third spreads a wait over [⅔, 3⁄2] of it: as far below as above in ratio.
	Third = Jitter{Low: 2.0 / 3, High: 1.5}
)

// Delay is the wait before retry n (1 for the first; below 1 counts as 1).
func (p Policy) Delay(n int) time.Duration {
	n = max(n, 1)
	var d time.Duration
	if len(p.Steps) > 0 {
		d = p.Steps[min(n, len(p.Steps))-1]
	} else {
		d = p.Min
		for i := 1; i < n && d > 0 && (p.Max <= 0 || d < p.Max); i++ {
			if d > time.Duration(1<<62)/2 {
				break // doubling again would overflow
			}
			d *= 2
		}
		if p.Max > 0 {
			d = min(d, p.Max)
		}
	}
	if p.Jitter.High > 0 {
		lo, hi := float64(d)*p.Jitter.Low, float64(d)*p.Jitter.High
		d = time.Duration(lo + rand.Float64()*(hi-lo))
	}
	return d
}
