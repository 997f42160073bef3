package alexa

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

// reflectiveProperty is Property's former encoding (encoding/json over the
// struct with timeOfSample formatted): MarshalJSON must write the same bytes.
func reflectiveProperty(p Property) ([]byte, error) {
	type plain Property
	return json.Marshal(struct {
		plain
		TimeOfSample string `json:"timeOfSample"`
	}{plain(p), p.TimeOfSample.UTC().Format(TimeOfSampleLayout)})
}

func TestPropertyMarshalJSONMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 5, 23, 4, 5, 678_900_000, time.FixedZone("x", 3600))
	values := []any{
		"ON", "", "a\"b", `back\slash`, "<b>&amp;", "tab\there", "ünïcode", "\xff", "\u2028",
		true, false, 0, -7, 100, int64(math.MaxInt64), int32(5), uint8(3), 1.5, 0.1, 1e21, float32(2.5),
		nil, map[string]any{"value": "OK"}, struct {
			Hue        float64 `json:"hue"`
			Saturation float64 `json:"saturation"`
		}{120.5, 0.25}, []int{1, 2}, json.RawMessage(`{"a":1}`),
	}
	names := []string{"powerState", "name\"q", "<tag>", "é"}
	for _, v := range values {
		for i, n := range names {
			p := Property{Namespace: "Alexa.PowerController", Name: n, Value: v, TimeOfSample: at, UncertaintyInMilliseconds: i * 250}
			if i%2 == 1 {
				p.Instance = "Fan.Speed&" + n
			}
			got, err := p.MarshalJSON()
			if err != nil {
				t.Fatalf("%#v: %v", p, err)
			}
			want, err := reflectiveProperty(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("value %#v name %q:\n got %s\nwant %s", v, n, got, want)
			}
			// Inside a slice (as in an event's context) the bytes stay the same too.
			in, err := json.Marshal([]Property{p})
			if err != nil {
				t.Fatal(err)
			}
			if want := "[" + string(want) + "]"; string(in) != want {
				t.Errorf("in a slice:\n got %s\nwant %s", in, want)
			}
		}
	}
}

func TestPropertyMarshalJSONErrors(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(1), make(chan int)} {
		p := Property{Namespace: "Alexa.RangeController", Name: "rangeValue", Value: v, TimeOfSample: time.Now()}
		if _, err := p.MarshalJSON(); err == nil {
			t.Errorf("%v encoded", v)
		}
		if _, err := json.Marshal(p); err == nil {
			t.Errorf("%v encoded through json.Marshal", v)
		}
	}
}

func TestPropertyMarshalJSONZeroTimeIsNow(t *testing.T) {
	before := time.Now().UTC().Truncate(time.Millisecond)
	b, err := Property{Namespace: "Alexa.PowerController", Name: "powerState", Value: "ON"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		TimeOfSample string `json:"timeOfSample"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	ts, err := time.Parse(TimeOfSampleLayout, got.TimeOfSample)
	if err != nil {
		t.Fatal(err)
	}
	if ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("timeOfSample %s is not the time of encoding (%s)", got.TimeOfSample, before)
	}
}

func BenchmarkPropertyMarshalJSON(b *testing.B) {
	props := []Property{
		{Namespace: "Alexa.PowerController", Name: "powerState", Value: "ON", TimeOfSample: time.Now(), UncertaintyInMilliseconds: 500},
		{Namespace: "Alexa.BrightnessController", Name: "brightness", Value: 50, TimeOfSample: time.Now(), UncertaintyInMilliseconds: 500},
		{Namespace: "Alexa.EndpointHealth", Name: "connectivity", Value: map[string]string{"value": "OK"}, TimeOfSample: time.Now()},
	}
	b.Run("reflective", func(b *testing.B) {
		for b.Loop() {
			for _, p := range props {
				if _, err := reflectiveProperty(p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("MarshalJSON", func(b *testing.B) {
		for b.Loop() {
			for _, p := range props {
				if _, err := p.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// TestPlainEventMatchesEncodingJSON: the events written by hand are the bytes
// json.Marshal writes for the same envelope, whatever their strings hold, and
// the other shapes are left to json.Marshal.
func TestPlainEventMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 5, 23, 4, 5, 678_900_000, time.UTC)
	odd := []string{"", "plain", "a\"b", `back\slash`, "<b>&amp;", "tab\there", "ünïcode", "\xff", "\u2028", "Alexa.PowerController"}
	props := [][]Property{
		nil,
		{},
		{{Namespace: "Alexa.PowerController", Name: "powerState", Value: "ON", TimeOfSample: at, UncertaintyInMilliseconds: 500}},
		{{Namespace: "Alexa.RangeController", Instance: "Fan.Speed", Name: "rangeValue", Value: 3, TimeOfSample: at},
			{Namespace: "Alexa.ColorController", Name: "color", Value: map[string]any{"hue": 120.5, "saturation": 0.25, "brightness": 1}, TimeOfSample: at},
			{Namespace: "Alexa.EndpointHealth", Name: "connectivity", Value: map[string]string{"value": "<OK&>"}, TimeOfSample: at}},
	}
	plain := 0
	for i, s := range odd {
		for j, ps := range props {
			h := eventHeader{Namespace: s, Name: "Response" + s, PayloadVersion: "3", MessageID: "m-" + s}
			if i%2 == 0 {
				h.CorrelationToken = "corr" + s
			}
			if i%3 == 0 {
				h.EventCorrelationToken = s + "ect"
			}
			var ep *eventEndpoint
			if j%2 == 0 {
				ep = endpointRef(s + "endpoint")
			}
			contexts := []any{nil, propertiesContext{Properties: ps}}
			if len(ps) > 0 {
				contexts = append(contexts, propsContext(ps))
			}
			for _, c := range contexts {
				for _, payload := range []any{emptyPayload, struct{}{}, map[string]any{}, struct {
					X string `json:"x"`
				}{s}} {
					e := envelope{Context: c, Event: event{Header: h, Endpoint: ep, Payload: payload}}
					want, err := json.Marshal(e)
					if err != nil {
						t.Fatal(err)
					}
					got, ok := appendPlainEvent(nil, e)
					if ok {
						plain++
						if !bytes.Equal(got, want) {
							t.Errorf("%#v:\n got %s\nwant %s", e, got, want)
						}
					}
					if m, err := marshalEvent(e); err != nil || !bytes.Equal(m, want) {
						t.Errorf("marshalEvent(%#v) = %s, %v; want %s", e, m, err, want)
					}
				}
			}
		}
	}
	if plain == 0 {
		t.Fatal("no event took the hand-written path")
	}
	d := &Directive{Header: Header{CorrelationToken: "c<1>"}}
	ev, err := NewResponse(d, "light-1", props[3])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := appendPlainEvent(nil, envelope{Context: propsContext(props[3]), Event: event{Header: header("Alexa", "Response", d), Endpoint: endpointRef("light-1"), Payload: emptyPayload}}); !ok || !json.Valid(ev) {
		t.Fatalf("a Response does not take the hand-written path, or is not JSON: %s", ev)
	}
}

// TestPlainEventKnowsEveryField: appendPlainEvent writes the envelope's
// fields one by one, so a field added to any of its structs would be left out
// of the directive answers without a word; this fails first.
func TestPlainEventKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want []string
	}{
		{envelope{}, []string{"Context", "Event"}},
		{event{}, []string{"Header", "Endpoint", "Payload"}},
		{eventHeader{}, []string{"Namespace", "Name", "PayloadVersion", "MessageID", "CorrelationToken", "EventCorrelationToken"}},
		{eventEndpoint{}, []string{"EndpointID"}},
		{propertiesContext{}, []string{"Properties"}},
	} {
		typ := reflect.TypeOf(c.v)
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s has fields %v; appendPlainEvent writes %v: update it (and this list)", typ.Name(), got, c.want)
		}
	}
}
