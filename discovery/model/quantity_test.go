package model

import "testing"

// TestQuantities: every known quantity is a plausible read-only range: its
// own unit converts with factor 1, its instance is its own, its bounds hold
// a reading, and MeasurementRange builds a range CheckState keeps.
func TestQuantities(t *testing.T) {
	instances := map[string]string{}
	for _, k := range QuantityKeys() {
		q := Quantities[k]
		if f, ok := q.Units[q.Unit]; !ok || f != 1 {
			t.Errorf("%s: its unit %q is not among its units with factor 1 (%v)", k, q.Unit, q.Units)
		}
		if other, dup := instances[q.Instance]; dup || q.Instance == "" {
			t.Errorf("%s: instance %q is empty or also %s's", k, q.Instance, other)
		}
		instances[q.Instance] = k
		if !(q.Min < q.Max) || q.Precision <= 0 || q.Name == "" {
			t.Errorf("%s: bounds %g–%g, precision %g, name %q", k, q.Min, q.Max, q.Precision, q.Name)
		}
		r, ok := MeasurementRange(k)
		if !ok || !r.NonControllable || r.Quantity != k || r.Instance != q.Instance {
			t.Errorf("%s: MeasurementRange = %+v, %v", k, r, ok)
		}
		tr := Traits{Ranges: []Range{r}}
		if st, drops := tr.CheckState(State{Ranges: map[string]float64{r.Instance: q.Max / 2}}); st.Ranges[r.Instance] != q.Max/2 {
			t.Errorf("%s: a reading of %g was dropped: %v", k, q.Max/2, drops)
		}
		if _, drops := tr.CheckState(State{Ranges: map[string]float64{r.Instance: q.Max * 2}}); len(drops) != 1 {
			t.Errorf("%s: a reading of %g was kept", k, q.Max*2)
		}
	}
	if _, ok := MeasurementRange("nonsense"); ok {
		t.Error("MeasurementRange of an unknown quantity succeeded")
	}
	if _, ok := QuantityOf(Range{Instance: "Fan.Rpm"}); ok {
		t.Error("a generic range has a quantity")
	}
}
