package hoptrace

import (
	"testing"
	"time"
)

func TestReadResolvesAliasesAndKeepsFirst(t *testing.T) {
	dir := t.TempDir()
	Start(dir)
	t.Cleanup(func() { Start("") })
	t0 := time.Unix(100, 0)
	AtTime("tok", "emu-send", t0)
	AtTime("corr", "bridge-in", t0.Add(5*time.Microsecond))
	Alias("corr", "tok")
	AtTime("tok", "hub-parsed", t0.Add(3*time.Microsecond))
	AtTime("tok", "hub-parsed", t0.Add(9*time.Microsecond)) // a later pass: the first counts
	At("", "ignored")
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"emu-send": t0.UnixNano(), "bridge-in": t0.Add(5 * time.Microsecond).UnixNano(), "hub-parsed": t0.Add(3 * time.Microsecond).UnixNano()}
	if len(got) != 1 || len(got["tok"]) != len(want) {
		t.Fatalf("Read = %v, want one directive with %v", got, want)
	}
	for s, w := range want {
		if got["tok"][s] != w {
			t.Errorf("%s at %d, want %d", s, got["tok"][s], w)
		}
	}
}
