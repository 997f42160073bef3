package discovery

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// TestNameIndexMatchesFullPass applies random adds, renames and removals with
// colliding names (case, spaces, names that look like another's suffix, empty)
// and checks after each one that every published name is what a full
// DedupeFriendlyNames pass over the reported endpoints gives.
func TestNameIndexMatchesFullPass(t *testing.T) {
	names := []string{"Lamp", "lamp", " Lamp ", "Lamp 2", "Lamp 3", "Door", "", "Lamp 2 2",
		strings.Repeat("x", model.MaxFriendlyNameLen+3), strings.Repeat("x", model.MaxFriendlyNameLen)}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		r := NewRegistry("S", WithLogger(quietLogger()))
		reported := map[string]string{} // device id → reported name
		for step := range 300 {
			dev := fmt.Sprintf("d%02d", rng.IntN(25))
			switch op := rng.IntN(10); {
			case op < 6:
				name := names[rng.IntN(len(names))]
				r.Apply("b", model.Event{Kind: model.EventUpsert, Device: &model.Device{Endpoint: model.Endpoint{DeviceID: dev, FriendlyName: name}}})
				reported[dev] = name
			case op < 9:
				r.Apply("b", model.Event{Kind: model.EventRemove, DeviceID: dev})
				delete(reported, dev)
			default:
				var devs []model.Device
				for id, name := range reported {
					if rng.IntN(4) > 0 {
						devs = append(devs, model.Device{Endpoint: model.Endpoint{DeviceID: id, FriendlyName: name}})
					}
				}
				r.Apply("b", model.Event{Kind: model.EventSnapshot, Devices: devs})
				clear(reported)
				for _, d := range devs {
					reported[d.Endpoint.DeviceID] = d.Endpoint.FriendlyName
				}
			}
			var eps []model.Endpoint
			for id, name := range reported {
				eps = append(eps, model.Endpoint{ID: r.ID("b", id), DeviceID: id, FriendlyName: name})
			}
			model.DedupeFriendlyNames(eps)
			want := map[string]string{}
			for _, ep := range eps {
				want[ep.ID] = ep.FriendlyName
			}
			list := r.List()
			if len(list) != len(want) {
				t.Fatalf("seed %d step %d: %d entries, want %d", seed, step, len(list), len(want))
			}
			for _, e := range list {
				if e.Endpoint.FriendlyName != want[e.Endpoint.ID] {
					t.Fatalf("seed %d step %d: %s published as %q, the full pass gives %q", seed, step, e.Endpoint.ID, e.Endpoint.FriendlyName, want[e.Endpoint.ID])
				}
			}
		}
	}
}

// TestDedupeManyDuplicates: 10,000 endpoints with one name get " 2" … " 10000"
// in id order (the suffix search resumes where it stopped: linear, not quadratic).
func TestDedupeManyDuplicates(t *testing.T) {
	eps := make([]model.Endpoint, 10000)
	for i := range eps {
		eps[i] = model.Endpoint{ID: fmt.Sprintf("S::b::%05d", i), FriendlyName: "Light"}
	}
	eps[1].FriendlyName = "Light 3" // a real name in the way of the suffixes
	model.DedupeFriendlyNames(eps)
	if eps[0].FriendlyName != "Light" || eps[1].FriendlyName != "Light 3" || eps[2].FriendlyName != "Light 2" ||
		eps[3].FriendlyName != "Light 4" || eps[9999].FriendlyName != "Light 10000" {
		t.Fatalf("names %q %q %q %q %q", eps[0].FriendlyName, eps[1].FriendlyName, eps[2].FriendlyName, eps[3].FriendlyName, eps[9999].FriendlyName)
	}
}

func TestBridgeLimit(t *testing.T) {
	logs := &logBuffer{}
	r := NewRegistry("S", WithLogger(slog.New(slog.NewTextHandler(logs, nil))), WithBridgeLimit(3))
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true), light("b", "B", true),
		light("c", "C", true), light("d", "D", true), light("e", "E", true)}})
	if got := ids(r.List()); !slices.Equal(got, []string{"S::zb::a", "S::zb::b", "S::zb::c"}) {
		t.Fatalf("kept %v", got)
	}
	if r.Refused("zb") != 2 || !strings.Contains(logs.String(), "more devices than its limit") || !strings.Contains(logs.String(), "refused=2") {
		t.Fatalf("refused %d, log: %s", r.Refused("zb"), logs.String())
	}
	// Another bridge has its own limit.
	r.Apply("mq", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("x", "X", true)}})
	// Upserts past the limit are refused and logged once.
	logs = &logBuffer{}
	r.log = slog.New(slog.NewTextHandler(logs, nil))
	for i, id := range []string{"p", "q", "r", "s", "t"} {
		d := light(id, "Up "+id, true)
		ch := r.Apply("up", model.Event{Kind: model.EventUpsert, Device: &d})
		if (i < 3) != (len(ch) == 1) {
			t.Fatalf("upsert %d: changes %v", i, ch)
		}
	}
	if n := strings.Count(logs.String(), "more devices than its limit"); n != 1 || r.Refused("up") != 2 {
		t.Fatalf("%d warnings, %d refused: %s", n, r.Refused("up"), logs.String())
	}
	for _, id := range []string{"f", "g"} {
		d := light(id, strings.ToUpper(id), true)
		if ch := r.Apply("zb", model.Event{Kind: model.EventUpsert, Device: &d}); len(ch) != 0 {
			t.Fatalf("upsert past the limit changed %v", ch)
		}
	}
	// An update of a known device is not a new device.
	a := light("a", "A renamed", false)
	if ch := r.Apply("zb", model.Event{Kind: model.EventUpsert, Device: &a}); len(ch) == 0 {
		t.Fatal("update at the limit refused")
	}
	// Room again after a removal.
	r.Apply("zb", model.Event{Kind: model.EventRemove, DeviceID: "b"})
	if r.Refused("zb") != 0 {
		t.Fatalf("refused %d under the limit", r.Refused("zb"))
	}
	f := light("f", "F", true)
	if ch := r.Apply("zb", model.Event{Kind: model.EventUpsert, Device: &f}); len(ch) != 1 || ch[0].Kind != ChangeAdded {
		t.Fatalf("upsert under the limit: %v", ch)
	}
	if got := r.Counts(); !slices.Equal(got, []EndpointCount{{"mq", model.CategoryLight, 1}, {"up", model.CategoryLight, 3}, {"zb", model.CategoryLight, 3}}) {
		t.Fatalf("counts %v", got)
	}
}

func TestRegistryPage(t *testing.T) {
	r := NewRegistry("S", WithLogger(quietLogger()))
	var devs []model.Device
	for i := range 25 {
		devs = append(devs, light(fmt.Sprintf("%02d", 24-i), fmt.Sprintf("L%d", i), true))
	}
	r.Apply("b", model.Event{Kind: model.EventSnapshot, Devices: devs})
	var got []string
	after, pages := "", 0
	for {
		p, next := r.Page(after, 10)
		pages++
		got = append(got, ids(p)...)
		if next == "" {
			break
		}
		after = next
	}
	if pages != 3 || !slices.Equal(got, ids(r.List())) || !slices.IsSorted(got) || len(got) != 25 {
		t.Fatalf("%d pages: %v", pages, got)
	}
	if p, next := r.Page("S::b::24", 10); len(p) != 0 || next != "" {
		t.Fatalf("page after the last: %v %q", p, next)
	}
	if r.Len() != 25 {
		t.Fatalf("Len %d", r.Len())
	}
}

func ids(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Endpoint.ID)
	}
	return out
}

// TestPerBridgeLimits: bridges[].maxEndpoints gives one bridge its own limit
// (the others keep the registry's), and a reload can change it.
func TestPerBridgeLimits(t *testing.T) {
	r := NewRegistry("S", WithLogger(slog.New(slog.NewTextHandler(&logBuffer{}, nil))), WithBridgeLimit(3),
		WithBridgeLimits(map[string]int{"small": 1, "big": 4, "default": 0}))
	five := []model.Device{light("a", "A", true), light("b", "B", true), light("c", "C", true), light("d", "D", true), light("e", "E", true)}
	for _, tc := range []struct {
		bridge string
		keep   int
	}{{"small", 1}, {"big", 4}, {"default", 3}, {"other", 3}} {
		devs := make([]model.Device, len(five))
		for i, d := range five {
			d.Endpoint.FriendlyName = tc.bridge + " " + d.Endpoint.FriendlyName
			devs[i] = d
		}
		r.Apply(tc.bridge, model.Event{Kind: model.EventSnapshot, Devices: devs})
		if n := len(r.bridgeIDs(tc.bridge)); n != tc.keep || r.Refused(tc.bridge) != 5-tc.keep {
			t.Errorf("%s: kept %d, refused %d; want %d kept", tc.bridge, n, r.Refused(tc.bridge), tc.keep)
		}
	}
	r.SetBridgeLimit("small", 2)
	d := light("z", "small Z", true)
	if ch := r.Apply("small", model.Event{Kind: model.EventUpsert, Device: &d}); len(ch) != 1 {
		t.Fatalf("an upsert under the raised limit changed %v", ch)
	}
	d = light("y", "small Y", true)
	if ch := r.Apply("small", model.Event{Kind: model.EventUpsert, Device: &d}); len(ch) != 0 {
		t.Fatalf("an upsert past the raised limit changed %v", ch)
	}
}

// bridgeIDs lists the ids the registry holds for bridge.
func (r *Registry) bridgeIDs(bridge string) []string {
	var out []string
	for _, e := range r.List() {
		if e.Endpoint.Bridge == bridge {
			out = append(out, e.Endpoint.ID)
		}
	}
	return out
}
