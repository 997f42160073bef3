package model

import (
	"fmt"
	"math"
)

// The range trait's hand-written part: command validation and its log form.

func (c Command) validateRange(t Traits, _ State) error {
	r := findRange(t.Ranges, c.Instance)
	if r == nil || r.NonControllable {
		return notSupported(c)
	}
	if c.Range == nil || math.IsNaN(*c.Range) {
		return invalid(c, "range value is missing")
	}
	if *c.Range < r.Min || *c.Range > r.Max {
		return OutOfRange(fmt.Sprintf("%s %g is outside %g–%g", c.Instance, *c.Range, r.Min, r.Max), r.Min, r.Max)
	}
	return nil
}

func (c Command) describeRange() (string, bool) {
	if c.Range == nil {
		return "", false
	}
	return fmt.Sprintf("range[%s]=%g", c.Instance, *c.Range), true
}
