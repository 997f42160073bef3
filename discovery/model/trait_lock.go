package model

// The lock trait's hand-written part: command validation and its log form.

func (c Command) validateLock(t Traits, _ State) error {
	if t.Lock == nil {
		return notSupported(c)
	}
	if c.Lock != Locked && c.Lock != Unlocked {
		return invalid(c, "lock must be LOCKED or UNLOCKED")
	}
	return nil
}

func (c Command) describeLock() (string, bool) { return "lock=" + string(c.Lock), true }
