package model

import "fmt"

// The cover trait's hand-written part: command validation and its log form.
// A cover command is a position (0 % closed to 100 % open; open and close
// are 100 and 0) or the stop action, exactly one of them.

func (c Command) validateCover(t Traits, _ State) error {
	if t.Cover == nil {
		return notSupported(c)
	}
	switch {
	case c.CoverStop != nil && c.CoverPosition != nil:
		return invalid(c, "a cover command is a position or a stop, not both")
	case c.CoverStop != nil:
		if !*c.CoverStop {
			return invalid(c, "coverStop must be true")
		}
		return nil
	case c.CoverPosition == nil:
		return invalid(c, "cover position is missing")
	}
	if *c.CoverPosition < 0 || *c.CoverPosition > 100 {
		return OutOfRange(fmt.Sprintf("cover position %d is outside 0–100", *c.CoverPosition), 0, 100)
	}
	return nil
}

func (c Command) describeCover() (string, bool) {
	if c.CoverStop != nil {
		return "coverStop", true
	}
	if c.CoverPosition == nil {
		return "", false
	}
	return fmt.Sprintf("coverPosition=%d", *c.CoverPosition), true
}
