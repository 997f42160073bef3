package convert

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
)

// enumChoices lists the valid values of the model's string enums; the filler
// picks from them so a round trip through the wire enums is possible.
var enumChoices = map[reflect.Type][]string{
	reflect.TypeFor[model.TraitKind]():      keys(traitKinds),
	reflect.TypeFor[model.ErrorKind]():      keys(errorKinds),
	reflect.TypeFor[model.ThermostatMode](): keys(modes),
	reflect.TypeFor[model.LockState]():      keys(locks),
	reflect.TypeFor[model.HealthState]():    keys(healths),
	reflect.TypeFor[model.PairingStage]():   keys(pairingStages),
}

func keys[K ~string, V any](m map[K]V) []string {
	var r []string
	for k := range m {
		r = append(r, string(k))
	}
	return r
}

// fill sets every field reachable from v to a random non-zero value: pointers
// non-nil, slices and maps non-empty. Because it works by reflection, a field
// added to the discovery model is filled too, and the round trip below fails
// until convert carries it.
func fill(r *rand.Rand, v reflect.Value) {
	if c, ok := enumChoices[v.Type()]; ok {
		v.SetString(c[r.IntN(len(c))])
		return
	}
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(1_700_000_000+r.Int64N(1e8), r.Int64N(1e9)).UTC()))
		return
	case reflect.TypeFor[time.Duration]():
		v.SetInt(1 + r.Int64N(int64(time.Hour)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(1 + r.Int64N(10000))
	case reflect.Uint64:
		v.SetUint(1 + r.Uint64N(1<<40))
	case reflect.Float64:
		v.SetFloat(r.NormFloat64()*100 + 0.5)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i))
			}
		}
	case reflect.Slice:
		n := 1 + r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + r.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(r, k)
			fill(r, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic("fill: unhandled kind " + v.Kind().String() + " at " + v.Type().String())
	}
}

func randString(r *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzÄé°-_ 0123456789"
	rs := []rune(alphabet)
	b := make([]rune, 1+r.IntN(12))
	for i := range b {
		b[i] = rs[r.IntN(len(rs))]
	}
	return string(b)
}

func random[T any](r *rand.Rand) T {
	var v T
	fill(r, reflect.ValueOf(&v).Elem())
	return v
}

// wire marshals and unmarshals m, so the test covers the bytes, not only the structs.
func wire[M proto.Message](t *testing.T, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTripEveryField(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		d := random[model.Device](r)
		if got := DeviceFrom(wire(t, Device(d))); !reflect.DeepEqual(got, d) {
			t.Fatalf("#%d device:\n got %+v\nwant %+v", i, got, d)
		}
		req := random[model.Request](r)
		if got := RequestFrom(wire(t, Request(req))); !reflect.DeepEqual(got, req) {
			t.Fatalf("#%d request:\n got %+v\nwant %+v", i, got, req)
		}
		e := random[model.Error](r)
		if got := ErrorFrom(wire(t, Error(&e))); !reflect.DeepEqual(*got, e) {
			t.Fatalf("#%d error:\n got %+v\nwant %+v", i, *got, e)
		}
		for _, status := range []model.ResultStatus{model.Done, model.Accepted} {
			res := random[model.Result](r)
			res.Status = status
			if status == model.Done {
				res.EstimatedDeferral = 0
			}
			got, err := ResultFrom(wire(t, Result(res, nil)))
			if err != nil || !reflect.DeepEqual(got, res) {
				t.Fatalf("#%d result: got %+v, %v\nwant %+v", i, got, err, res)
			}
		}
		h := random[model.Health](r)
		if got := HealthFrom(wire(t, Health(h))); got != h {
			t.Fatalf("#%d health: got %+v want %+v", i, got, h)
		}
		for _, ev := range eventsOfEveryKind(r) {
			got, ok := EventFrom(wire(t, Event(ev)))
			if !ok || !reflect.DeepEqual(got, ev) {
				t.Fatalf("#%d event %s:\n got %+v\nwant %+v", i, ev.Kind, got, ev)
			}
		}
	}
}

// eventsOfEveryKind returns one random event of each kind with only the fields
// that kind carries.
func eventsOfEveryKind(r *rand.Rand) []model.Event {
	full := random[model.Event](r)
	base := model.Event{Seq: full.Seq, At: full.At}
	var out []model.Event
	add := func(k model.EventKind, f func(*model.Event)) {
		ev := base
		ev.Kind = k
		f(&ev)
		out = append(out, ev)
	}
	add(model.EventHealth, func(e *model.Event) { e.Health = full.Health })
	add(model.EventSnapshot, func(e *model.Event) { e.Devices = full.Devices })
	add(model.EventUpsert, func(e *model.Event) { e.Device = full.Device })
	add(model.EventRemove, func(e *model.Event) { e.DeviceID = full.DeviceID })
	add(model.EventState, func(e *model.Event) { e.DeviceID, e.State, e.Cause = full.DeviceID, full.State, full.Cause })
	add(model.EventReachability, func(e *model.Event) { e.DeviceID, e.Reachable = full.DeviceID, true })
	add(model.EventReachability, func(e *model.Event) { e.DeviceID, e.Reachable = full.DeviceID, false })
	add(model.EventCompletion, func(e *model.Event) { e.Completion = full.Completion })
	c := *full.Completion
	c.Err = nil
	add(model.EventCompletion, func(e *model.Event) { e.Completion = &c })
	add(model.EventPairing, func(e *model.Event) { e.Pairing = full.Pairing })
	window := model.Pairing{Stage: model.PairingOpen, Remaining: full.Pairing.Remaining}
	add(model.EventPairing, func(e *model.Event) { e.Pairing = &window })
	return out
}

// TestFillerCoversEveryField guards the guard: the filler must leave no field
// of the model at its zero value.
func TestFillerCoversEveryField(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, v := range []any{random[model.Device](r), random[model.Request](r), random[model.Event](r)} {
		assertNoZero(t, reflect.ValueOf(v), reflect.TypeOf(v).String())
	}
}

func assertNoZero(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.IsZero() {
		t.Errorf("%s is zero", path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if e := v.Elem(); e.Kind() != reflect.Struct || e.NumField() > 0 { // a marker trait like *OnOff is empty
			assertNoZero(t, e, path)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				assertNoZero(t, v.Field(i), path+"."+f.Name)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			assertNoZero(t, v.Index(i), path+"[]")
		}
	}
}

func TestUnknownValuesAreSafe(t *testing.T) {
	if e := ErrorFrom(&pb.Error{Kind: pb.ErrorKind(99), Message: "x"}); e.Kind != model.ErrInternal {
		t.Errorf("unknown wire kind -> %q, want INTERNAL", e.Kind)
	}
	if e := Error(&model.Error{Kind: "MADE_UP"}); e.Kind != pb.ErrorKind_ERROR_KIND_INTERNAL {
		t.Errorf("unknown model kind -> %v, want INTERNAL", e.Kind)
	}
	_, err := ResultFrom(&pb.ExecuteResponse{})
	var de *model.Error
	if !errors.As(err, &de) || de.Kind != model.ErrInternal {
		t.Errorf("empty response -> %v, want internal *model.Error", err)
	}
	if _, ok := EventFrom(&pb.Event{Seq: 3}); ok {
		t.Error("event without kind accepted")
	}
	// A pairing stage from a newer minor is skipped, not shown as "".
	if _, ok := EventFrom(&pb.Event{Seq: 4, Kind: &pb.Event_Pairing{Pairing: &pb.PairingProgress{Stage: pb.PairingStage(42)}}}); ok {
		t.Error("pairing event of an unknown stage accepted")
	}
	if got := StateFrom(nil); !reflect.DeepEqual(got, model.State{}) {
		t.Errorf("nil state -> %+v", got)
	}
	// A plain timeout from a bridge crosses as UNREACHABLE, never INTERNAL.
	res := Result(model.Result{}, errors.Join(errors.New("x"), discoveryDeadline()))
	if k := res.GetError().GetKind(); k != pb.ErrorKind_ERROR_KIND_UNREACHABLE {
		t.Errorf("deadline -> %v, want UNREACHABLE", k)
	}
}

func discoveryDeadline() error { return timeoutErr{} }

type timeoutErr struct{}

func (timeoutErr) Error() string { return "deadline" }
func (timeoutErr) Timeout() bool { return true }

func FuzzEventFrom(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, ev := range eventsOfEveryKind(r) {
		b, _ := proto.Marshal(Event(ev))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m pb.Event
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		ev, ok := EventFrom(&m)
		if !ok {
			return
		}
		// Whatever decoded must convert back without panicking and keep its seq.
		if Event(ev).GetSeq() != m.GetSeq() {
			t.Fatal("seq changed")
		}
	})
}

// FuzzExecuteResponse feeds arbitrary bytes as a bridge's Execute answer: the
// hub must get a Result or a typed error, never a panic.
func FuzzExecuteResponse(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, status := range []model.ResultStatus{model.Done, model.Accepted} {
		res := random[model.Result](r)
		res.Status = status
		b, _ := proto.Marshal(Result(res, nil))
		f.Add(b)
	}
	e := random[model.Error](r)
	b, _ := proto.Marshal(Result(model.Result{}, &e))
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m pb.ExecuteResponse
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		res, err := ResultFrom(&m)
		if err != nil {
			var de *model.Error
			if !errors.As(err, &de) || de.Kind == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if res.Status != model.Done && res.Status != model.Accepted || res.EstimatedDeferral < 0 {
			t.Fatalf("result %+v", res)
		}
	})
}

// FuzzExecuteRequest feeds arbitrary bytes as the hub's Execute request to a
// bridge: conversion and validation must not panic.
func FuzzExecuteRequest(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 4 {
		b, _ := proto.Marshal(Request(random[model.Request](r)))
		f.Add(b)
	}
	traits := random[model.Traits](r)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m pb.ExecuteRequest
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		req := RequestFrom(&m)
		if err := req.Command.Validate(traits, model.State{}); err != nil {
			var de *model.Error
			if !errors.As(err, &de) {
				t.Fatalf("untyped validation error %v", err)
			}
		}
		_ = req.Command.Apply(model.State{})
		_ = req.Command.String()
	})
}
