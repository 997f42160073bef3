package model

import "fmt"

// The cover trait's hand-written part: command validation and its log form.

func (c Command) validateCover(t Traits, _ State) error {
	if t.Cover == nil {
		return notSupported(c)
	}
	if c.CoverPosition == nil {
		return invalid(c, "cover position is missing")
	}
	if *c.CoverPosition < 0 || *c.CoverPosition > 100 {
		return OutOfRange(fmt.Sprintf("cover position %d is outside 0–100", *c.CoverPosition), 0, 100)
	}
	return nil
}

func (c Command) describeCover() (string, bool) {
	if c.CoverPosition == nil {
		return "", false
	}
	return fmt.Sprintf("coverPosition=%d", *c.CoverPosition), true
}
