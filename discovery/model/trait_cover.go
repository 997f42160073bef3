package model

import "fmt"

// The cover trait's hand-written part: command validation and its log form.
// A cover command is a position (0 % closed to 100 % open; open and close
// are 100 and 0), the slats' tilt (0 % closed to 100 % open; a cover with
// Tilt only) or the stop action, exactly one of them.

func (c Command) validateCover(t Traits, _ State) error {
	if t.Cover == nil {
		return notSupported(c)
	}
	n := 0
	for _, set := range []bool{c.CoverStop != nil, c.CoverPosition != nil, c.CoverTilt != nil} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return invalid(c, "a cover command is a position, a tilt or a stop, one of them")
	case c.CoverTilt != nil:
		if !t.Cover.Tilt {
			return &Error{Kind: ErrNotSupported, Message: "the cover has no tilt"}
		}
		if *c.CoverTilt < 0 || *c.CoverTilt > 100 {
			return OutOfRange(fmt.Sprintf("cover tilt %d is outside 0–100", *c.CoverTilt), 0, 100)
		}
		return nil
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
	if c.CoverTilt != nil {
		return fmt.Sprintf("coverTilt=%d", *c.CoverTilt), true
	}
	if c.CoverPosition == nil {
		return "", false
	}
	return fmt.Sprintf("coverPosition=%d", *c.CoverPosition), true
}
