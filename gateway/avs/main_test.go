package avs_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that clients and emulators stop every goroutine they start.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
