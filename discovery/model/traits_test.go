package model

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// fillValue sets v to a non-zero value: pointers non-nil, maps and slices
// non-empty, strings and numbers non-zero. It works by reflection, so a field
// a new trait adds is filled without touching this test.
func fillValue(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + string(rune('a'+seed%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed + 1))
	case reflect.Float64:
		v.SetFloat(float64(seed) + 0.5)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(p.Elem(), seed)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			fillValue(v.Field(i), seed+i)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fillValue(s.Index(0), seed)
		fillValue(s.Index(1), seed+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillValue(k, seed+i)
			fillValue(e, seed+i)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic("fillValue: " + v.Type().String())
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEveryStateFieldSurvives sets every field of State, one at a time and all
// at once, and requires Clone, Merge and DiffState to keep it, Kinds to name
// exactly one trait per field, and a clone to share no memory.
func TestEveryStateFieldSurvives(t *testing.T) {
	typ := reflect.TypeFor[State]()
	var all State
	seenKinds := map[TraitKind]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			var s State
			fillValue(reflect.ValueOf(&s).Elem().Field(i), i)
			fillValue(reflect.ValueOf(&all).Elem().Field(i), i)
			want := asJSON(t, s)
			if s.IsZero() {
				t.Fatal("IsZero with the field set")
			}
			ks := s.Kinds()
			if len(ks) != 1 {
				t.Fatalf("Kinds = %v, want the one trait the field belongs to", ks)
			}
			seenKinds[ks[0]] = true
			c := s.Clone()
			if got := asJSON(t, c); got != want || !reflect.DeepEqual(c, s) {
				t.Fatalf("Clone = %s, want %s", got, want)
			}
			mutate(reflect.ValueOf(&c).Elem().Field(i))
			if got := asJSON(t, s); got != want {
				t.Fatalf("mutating the clone changed the original: %s", got)
			}
			if got := asJSON(t, (State{}).Merge(s)); got != want {
				t.Fatalf("Merge onto empty = %s, want %s", got, want)
			}
			if got := asJSON(t, s.Merge(State{})); got != want {
				t.Fatalf("Merge of empty = %s, want %s", got, want)
			}
			if got := asJSON(t, DiffState(State{}, s)); got != want {
				t.Fatalf("DiffState from empty = %s, want %s", got, want)
			}
			if d := DiffState(s, s.Clone()); !d.IsZero() {
				t.Fatalf("DiffState of equal states = %s", asJSON(t, d))
			}
		})
	}
	if got := all.Kinds(); !slices.Equal(got, AllTraitKinds()) {
		t.Fatalf("a state with every field set has kinds %v, want every trait %v", got, AllTraitKinds())
	}
	if got, want := asJSON(t, DiffState(State{}, all)), asJSON(t, all); got != want {
		t.Fatalf("DiffState of everything = %s, want %s", got, want)
	}
}

// mutate changes whatever v points to or holds, in place.
func mutate(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		mutate(v.Elem())
	case reflect.Map:
		for _, k := range v.MapKeys() {
			v.SetMapIndex(k, reflect.Zero(v.Type().Elem()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			mutate(v.Field(i))
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutate(v.Index(i))
		}
	case reflect.String:
		v.SetString("mutated")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1000)
	case reflect.Float64:
		v.SetFloat(v.Float() + 1000)
	}
}

// TestEveryTraitConfigClones fills every trait's configuration and requires
// Traits.Clone (and Endpoint.Clone) to copy it deeply, Kinds and Names to list
// every trait.
func TestEveryTraitConfigClones(t *testing.T) {
	var tr Traits
	fillValue(reflect.ValueOf(&tr).Elem(), 3)
	want := asJSON(t, tr)
	c := Endpoint{Traits: tr}.Clone().Traits
	if !reflect.DeepEqual(c, tr) {
		t.Fatal("clone differs")
	}
	mutate(reflect.ValueOf(&c).Elem())
	if got := asJSON(t, tr); got != want {
		t.Fatalf("mutating the clone changed the original:\n%s\n%s", got, want)
	}
	if got := tr.Kinds(); !slices.Equal(got, AllTraitKinds()) {
		t.Fatalf("Kinds = %v, want %v", got, AllTraitKinds())
	}
	if n := len(tr.Names()); n < len(AllTraitKinds()) {
		t.Fatalf("Names lists %d traits, want at least %d", n, len(AllTraitKinds()))
	}
}

// TestEveryCommandApplies: for every command field, a command with it set
// passes through Apply into the state (and Kinds names the command's trait).
func TestEveryCommandApplies(t *testing.T) {
	typ := reflect.TypeFor[Command]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if _, action := actionFields[f.Name]; f.Name == "Trait" || f.Name == "Instance" || action {
			continue // actions: TestEveryActionChangesNothing
		}
		t.Run(f.Name, func(t *testing.T) {
			var found bool
			for _, k := range AllTraitKinds() {
				c := Command{Trait: k, Instance: "inst"}
				fillValue(reflect.ValueOf(&c).Elem().Field(i), i)
				s := c.Apply(State{})
				if s.IsZero() {
					continue
				}
				found = true
				if ks := s.Kinds(); len(ks) != 1 || ks[0] != k {
					t.Fatalf("Apply of a %s command set the state of %v", k, ks)
				}
				if _, ok := c.describe(); !ok {
					t.Fatalf("%s command has no log form", k)
				}
			}
			if !found {
				t.Fatalf("no trait's Apply uses command field %s", f.Name)
			}
		})
	}
}

// TestEveryActionChangesNothing: an action (stop a cover) is valid on its
// trait's example endpoint, has a log form, and predicts no state: the device
// reports what follows. Every action field of Command is one the generator
// declared.
func TestEveryActionChangesNothing(t *testing.T) {
	typ := reflect.TypeFor[Command]()
	var n int
	for i := range typ.NumField() {
		f := typ.Field(i)
		k, action := actionFields[f.Name]
		if !action {
			continue
		}
		n++
		t.Run(f.Name, func(t *testing.T) {
			c := Command{Trait: k}
			reflect.ValueOf(&c).Elem().Field(i).Set(reflect.ValueOf(Ptr(true)))
			traits, st := Example(k)
			if err := c.Validate(traits, st); err != nil {
				t.Fatalf("%s on the %s example: %v", f.Name, k, err)
			}
			if _, ok := c.describe(); !ok {
				t.Fatalf("%s has no log form", f.Name)
			}
			if got := c.Apply(st); !reflect.DeepEqual(got, st) {
				t.Fatalf("Apply of %s changed the state to %+v", f.Name, got)
			}
		})
	}
	if n != len(actionFields) {
		t.Fatalf("%d action fields in Command, %d declared", n, len(actionFields))
	}
}

// TestEveryCommandEffect: a command's Effect on a state that sets every
// trait keeps what the command set and its trait's state (only its instance
// of a generic trait), with on/off beside a brightness or a fan speed, and
// nothing else: a reading in it could overwrite a newer one.
func TestEveryCommandEffect(t *testing.T) {
	var full State
	for _, k := range AllTraitKinds() {
		_, st := Example(k)
		full = full.Merge(st)
	}
	full.Toggles = map[string]bool{"other": true}
	full.Ranges = map[string]float64{"other": 1}
	full.Modes = map[string]string{"other": "x"}
	typ := reflect.TypeFor[Command]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if _, action := actionFields[f.Name]; f.Name == "Trait" || f.Name == "Instance" || action {
			continue
		}
		for _, k := range AllTraitKinds() {
			c := Command{Trait: k, Instance: "inst"}
			fillValue(reflect.ValueOf(&c).Elem().Field(i), i)
			set := c.Apply(State{})
			if set.IsZero() {
				continue
			}
			got := c.Effect(c.Apply(full))
			if !reflect.DeepEqual(got.Merge(set), got) {
				t.Errorf("%s: Effect %+v lost what the command set (%+v)", c, got, set)
			}
			want := []TraitKind{k}
			if k == TraitBrightness || k == TraitFan {
				want = []TraitKind{TraitOnOff, k}
			}
			if ks := got.Kinds(); !slices.Equal(ks, want) {
				t.Errorf("%s: Effect sets %v, want %v", c, ks, want)
			}
			if len(got.Toggles)+len(got.Ranges)+len(got.Modes) > 1 {
				t.Errorf("%s: Effect keeps other instances: %+v", c, got)
			}
			if !c.Effect(State{}).IsZero() {
				t.Errorf("%s: Effect of nothing is %+v", c, c.Effect(State{}))
			}
		}
	}
	if got := StopCover().Effect(full); got.CoverPosition == nil || len(got.Kinds()) != 1 {
		t.Errorf("a stop's Effect is %+v, want the cover's position", got)
	}
}

// TestOnlyKeepsItsTrait: State.Only(k) of a state that sets every trait is
// trait k's state alone, every field of it.
func TestOnlyKeepsItsTrait(t *testing.T) {
	var full State
	for _, k := range AllTraitKinds() {
		_, st := Example(k)
		full = full.Merge(st)
	}
	for _, k := range AllTraitKinds() {
		_, want := Example(k)
		if got := full.Only(k); !reflect.DeepEqual(got, want) {
			t.Errorf("Only(%s) = %+v, want %+v", k, got, want)
		}
	}
}
