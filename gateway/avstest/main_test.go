package avstest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the emulator stops every goroutine they start.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
