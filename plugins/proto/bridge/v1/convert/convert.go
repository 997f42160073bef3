// Package convert converts between the discovery device model and the bridge.v1
// protocol messages. It is the only place that knows both, so a field added to
// one side is added here and caught by the round-trip test.
//
// Conversions are total: values the wire cannot name (an unknown error kind, a
// negative duration) map to the closest safe value rather than failing, and a
// nil message converts to the zero value.
package convert

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/avshub/avshub/discovery"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
)

// ---------------------------------------------------------------- enums

var traitKinds = map[discovery.TraitKind]pb.TraitKind{
	discovery.TraitOnOff:             pb.TraitKind_TRAIT_KIND_ON_OFF,
	discovery.TraitBrightness:        pb.TraitKind_TRAIT_KIND_BRIGHTNESS,
	discovery.TraitColor:             pb.TraitKind_TRAIT_KIND_COLOR,
	discovery.TraitColorTemperature:  pb.TraitKind_TRAIT_KIND_COLOR_TEMPERATURE,
	discovery.TraitLock:              pb.TraitKind_TRAIT_KIND_LOCK,
	discovery.TraitThermostat:        pb.TraitKind_TRAIT_KIND_THERMOSTAT,
	discovery.TraitTemperatureSensor: pb.TraitKind_TRAIT_KIND_TEMPERATURE_SENSOR,
	discovery.TraitToggle:            pb.TraitKind_TRAIT_KIND_TOGGLE,
	discovery.TraitRange:             pb.TraitKind_TRAIT_KIND_RANGE,
	discovery.TraitMode:              pb.TraitKind_TRAIT_KIND_MODE,
}

var errorKinds = map[discovery.ErrorKind]pb.ErrorKind{
	discovery.ErrUnreachable:                pb.ErrorKind_ERROR_KIND_UNREACHABLE,
	discovery.ErrBridgeUnreachable:          pb.ErrorKind_ERROR_KIND_BRIDGE_UNREACHABLE,
	discovery.ErrBusy:                       pb.ErrorKind_ERROR_KIND_BUSY,
	discovery.ErrOutOfRange:                 pb.ErrorKind_ERROR_KIND_OUT_OF_RANGE,
	discovery.ErrTemperatureOutOfRange:      pb.ErrorKind_ERROR_KIND_TEMPERATURE_OUT_OF_RANGE,
	discovery.ErrNotSupported:               pb.ErrorKind_ERROR_KIND_NOT_SUPPORTED,
	discovery.ErrInvalidValue:               pb.ErrorKind_ERROR_KIND_INVALID_VALUE,
	discovery.ErrHardwareFault:              pb.ErrorKind_ERROR_KIND_HARDWARE_FAULT,
	discovery.ErrLowPower:                   pb.ErrorKind_ERROR_KIND_LOW_POWER,
	discovery.ErrUnsupportedThermostatMode:  pb.ErrorKind_ERROR_KIND_UNSUPPORTED_THERMOSTAT_MODE,
	discovery.ErrThermostatIsOff:            pb.ErrorKind_ERROR_KIND_THERMOSTAT_IS_OFF,
	discovery.ErrSetpointsTooClose:          pb.ErrorKind_ERROR_KIND_SETPOINTS_TOO_CLOSE,
	discovery.ErrDualSetpointsUnsupported:   pb.ErrorKind_ERROR_KIND_DUAL_SETPOINTS_UNSUPPORTED,
	discovery.ErrTripleSetpointsUnsupported: pb.ErrorKind_ERROR_KIND_TRIPLE_SETPOINTS_UNSUPPORTED,
	discovery.ErrInternal:                   pb.ErrorKind_ERROR_KIND_INTERNAL,
}

var modes = map[discovery.ThermostatMode]pb.ThermostatMode{
	discovery.ModeHeat: pb.ThermostatMode_THERMOSTAT_MODE_HEAT,
	discovery.ModeCool: pb.ThermostatMode_THERMOSTAT_MODE_COOL,
	discovery.ModeAuto: pb.ThermostatMode_THERMOSTAT_MODE_AUTO,
	discovery.ModeEco:  pb.ThermostatMode_THERMOSTAT_MODE_ECO,
	discovery.ModeOff:  pb.ThermostatMode_THERMOSTAT_MODE_OFF,
}

var locks = map[discovery.LockState]pb.LockState{
	discovery.Locked:   pb.LockState_LOCK_STATE_LOCKED,
	discovery.Unlocked: pb.LockState_LOCK_STATE_UNLOCKED,
	discovery.Jammed:   pb.LockState_LOCK_STATE_JAMMED,
}

var healths = map[discovery.HealthState]pb.HealthState{
	discovery.HealthStarting:  pb.HealthState_HEALTH_STATE_STARTING,
	discovery.HealthHealthy:   pb.HealthState_HEALTH_STATE_HEALTHY,
	discovery.HealthUnhealthy: pb.HealthState_HEALTH_STATE_UNHEALTHY,
}

func invert[K, V comparable](m map[K]V) map[V]K {
	r := make(map[V]K, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

var (
	traitKindsBack = invert(traitKinds)
	errorKindsBack = invert(errorKinds)
	modesBack      = invert(modes)
	locksBack      = invert(locks)
	healthsBack    = invert(healths)
)

// ---------------------------------------------------------------- helpers

func mapSlice[A, B any](in []A, f func(A) B) []B {
	if len(in) == 0 {
		return nil
	}
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = f(a)
	}
	return out
}

func cloneMap[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	r := make(map[string]V, len(m))
	for k, v := range m {
		r[k] = v
	}
	return r
}

func i32p(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}

func intp(p *int32) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

// ---------------------------------------------------------------- endpoints

// Endpoint converts an endpoint to the wire.
func Endpoint(e discovery.Endpoint) *pb.Endpoint {
	return &pb.Endpoint{
		Id: e.ID, Bridge: e.Bridge, DeviceId: e.DeviceID, FriendlyName: e.FriendlyName,
		Manufacturer: e.Manufacturer, Model: e.Model, Description: e.Description,
		Category: string(e.Category),
		Connections: mapSlice(e.Connections, func(c discovery.Connection) *pb.Connection {
			return &pb.Connection{Type: string(c.Type), MacAddress: c.MACAddress, Value: c.Value}
		}),
		Traits: Traits(e.Traits),
	}
}

// EndpointFrom converts a wire endpoint.
func EndpointFrom(e *pb.Endpoint) discovery.Endpoint {
	if e == nil {
		return discovery.Endpoint{}
	}
	return discovery.Endpoint{
		ID: e.GetId(), Bridge: e.GetBridge(), DeviceID: e.GetDeviceId(), FriendlyName: e.GetFriendlyName(),
		Manufacturer: e.GetManufacturer(), Model: e.GetModel(), Description: e.GetDescription(),
		Category: discovery.Category(e.GetCategory()),
		Connections: mapSlice(e.GetConnections(), func(c *pb.Connection) discovery.Connection {
			return discovery.Connection{Type: discovery.ConnectionType(c.GetType()), MACAddress: c.GetMacAddress(), Value: c.GetValue()}
		}),
		Traits: TraitsFrom(e.GetTraits()),
	}
}

func names(ns []discovery.Name) []*pb.Name {
	return mapSlice(ns, func(n discovery.Name) *pb.Name {
		return &pb.Name{Text: n.Text, Locale: n.Locale, AssetId: n.AssetID}
	})
}

func namesFrom(ns []*pb.Name) []discovery.Name {
	return mapSlice(ns, func(n *pb.Name) discovery.Name {
		return discovery.Name{Text: n.GetText(), Locale: n.GetLocale(), AssetID: n.GetAssetId()}
	})
}

// Traits converts a trait set to the wire.
func Traits(t discovery.Traits) *pb.Traits {
	out := &pb.Traits{}
	if t.OnOff != nil {
		out.OnOff = &pb.OnOffTrait{}
	}
	if t.Brightness != nil {
		out.Brightness = &pb.BrightnessTrait{}
	}
	if t.Color != nil {
		out.Color = &pb.ColorTrait{}
	}
	if ct := t.ColorTemperature; ct != nil {
		out.ColorTemperature = &pb.ColorTemperatureTrait{MinKelvin: int32(ct.MinKelvin), MaxKelvin: int32(ct.MaxKelvin)}
	}
	if t.Lock != nil {
		out.Lock = &pb.LockTrait{}
	}
	if th := t.Thermostat; th != nil {
		out.Thermostat = &pb.ThermostatTrait{
			Modes:          mapSlice(th.Modes, func(m discovery.ThermostatMode) pb.ThermostatMode { return modes[m] }),
			TargetSetpoint: th.TargetSetpoint, DualSetpoints: th.DualSetpoints,
			MinC: th.MinC, MaxC: th.MaxC, MinDeltaC: th.MinDeltaC, StepC: th.StepC, Scale: th.Scale,
		}
	}
	if t.TemperatureSensor != nil {
		out.TemperatureSensor = &pb.TemperatureSensorTrait{}
	}
	out.Toggles = mapSlice(t.Toggles, func(x discovery.Toggle) *pb.ToggleTrait {
		return &pb.ToggleTrait{Instance: x.Instance, Names: names(x.Names), NonControllable: x.NonControllable}
	})
	out.Ranges = mapSlice(t.Ranges, func(x discovery.Range) *pb.RangeTrait {
		return &pb.RangeTrait{Instance: x.Instance, Names: names(x.Names), Min: x.Min, Max: x.Max,
			Precision: x.Precision, Unit: x.Unit, NonControllable: x.NonControllable,
			Presets: mapSlice(x.Presets, func(p discovery.Preset) *pb.Preset {
				return &pb.Preset{Value: p.Value, Names: names(p.Names)}
			})}
	})
	out.Modes = mapSlice(t.Modes, func(x discovery.Mode) *pb.ModeTrait {
		return &pb.ModeTrait{Instance: x.Instance, Names: names(x.Names), Ordered: x.Ordered,
			NonControllable: x.NonControllable,
			Values: mapSlice(x.Values, func(v discovery.ModeValue) *pb.ModeValue {
				return &pb.ModeValue{Value: v.Value, Names: names(v.Names)}
			})}
	})
	return out
}

// TraitsFrom converts a wire trait set.
func TraitsFrom(t *pb.Traits) discovery.Traits {
	var out discovery.Traits
	if t == nil {
		return out
	}
	if t.OnOff != nil {
		out.OnOff = &discovery.OnOff{}
	}
	if t.Brightness != nil {
		out.Brightness = &discovery.Brightness{}
	}
	if t.Color != nil {
		out.Color = &discovery.Color{}
	}
	if ct := t.ColorTemperature; ct != nil {
		out.ColorTemperature = &discovery.ColorTemperature{MinKelvin: int(ct.GetMinKelvin()), MaxKelvin: int(ct.GetMaxKelvin())}
	}
	if t.Lock != nil {
		out.Lock = &discovery.Lock{}
	}
	if th := t.Thermostat; th != nil {
		out.Thermostat = &discovery.Thermostat{
			Modes:          mapSlice(th.GetModes(), func(m pb.ThermostatMode) discovery.ThermostatMode { return modesBack[m] }),
			TargetSetpoint: th.GetTargetSetpoint(), DualSetpoints: th.GetDualSetpoints(),
			MinC: th.GetMinC(), MaxC: th.GetMaxC(), MinDeltaC: th.GetMinDeltaC(), StepC: th.GetStepC(), Scale: th.GetScale(),
		}
	}
	if t.TemperatureSensor != nil {
		out.TemperatureSensor = &discovery.TemperatureSensor{}
	}
	out.Toggles = mapSlice(t.GetToggles(), func(x *pb.ToggleTrait) discovery.Toggle {
		return discovery.Toggle{Instance: x.GetInstance(), Names: namesFrom(x.GetNames()), NonControllable: x.GetNonControllable()}
	})
	out.Ranges = mapSlice(t.GetRanges(), func(x *pb.RangeTrait) discovery.Range {
		return discovery.Range{Instance: x.GetInstance(), Names: namesFrom(x.GetNames()), Min: x.GetMin(), Max: x.GetMax(),
			Precision: x.GetPrecision(), Unit: x.GetUnit(), NonControllable: x.GetNonControllable(),
			Presets: mapSlice(x.GetPresets(), func(p *pb.Preset) discovery.Preset {
				return discovery.Preset{Value: p.GetValue(), Names: namesFrom(p.GetNames())}
			})}
	})
	out.Modes = mapSlice(t.GetModes(), func(x *pb.ModeTrait) discovery.Mode {
		return discovery.Mode{Instance: x.GetInstance(), Names: namesFrom(x.GetNames()), Ordered: x.GetOrdered(),
			NonControllable: x.GetNonControllable(),
			Values: mapSlice(x.GetValues(), func(v *pb.ModeValue) discovery.ModeValue {
				return discovery.ModeValue{Value: v.GetValue(), Names: namesFrom(v.GetNames())}
			})}
	})
	return out
}

// ---------------------------------------------------------------- state

func hsb(c *discovery.HSB) *pb.HSB {
	if c == nil {
		return nil
	}
	return &pb.HSB{Hue: c.Hue, Saturation: c.Saturation, Brightness: c.Brightness}
}

func hsbFrom(c *pb.HSB) *discovery.HSB {
	if c == nil {
		return nil
	}
	return &discovery.HSB{Hue: c.GetHue(), Saturation: c.GetSaturation(), Brightness: c.GetBrightness()}
}

func thermostatState(t *discovery.ThermostatState) *pb.ThermostatState {
	if t == nil {
		return nil
	}
	return &pb.ThermostatState{Mode: modes[t.Mode], Target: cp(t.Target), Lower: cp(t.Lower), Upper: cp(t.Upper)}
}

func thermostatStateFrom(t *pb.ThermostatState) *discovery.ThermostatState {
	if t == nil {
		return nil
	}
	return &discovery.ThermostatState{Mode: modesBack[t.GetMode()], Target: cp(t.Target), Lower: cp(t.Lower), Upper: cp(t.Upper)}
}

// State converts a (partial) state to the wire.
func State(s discovery.State) *pb.State {
	return &pb.State{
		On: cp(s.On), Brightness: i32p(s.Brightness), Color: hsb(s.Color),
		ColorTemperature: i32p(s.ColorTemperature), Lock: locks[s.Lock],
		Thermostat: thermostatState(s.Thermostat), Temperature: cp(s.Temperature),
		Toggles: cloneMap(s.Toggles), Ranges: cloneMap(s.Ranges), Modes: cloneMap(s.Modes),
	}
}

// StateFrom converts a wire state.
func StateFrom(s *pb.State) discovery.State {
	if s == nil {
		return discovery.State{}
	}
	return discovery.State{
		On: cp(s.On), Brightness: intp(s.Brightness), Color: hsbFrom(s.GetColor()),
		ColorTemperature: intp(s.ColorTemperature), Lock: locksBack[s.GetLock()],
		Thermostat: thermostatStateFrom(s.GetThermostat()), Temperature: cp(s.Temperature),
		Toggles: cloneMap(s.GetToggles()), Ranges: cloneMap(s.GetRanges()), Modes: cloneMap(s.GetModes()),
	}
}

// Device converts a device to the wire.
func Device(d discovery.Device) *pb.Device {
	return &pb.Device{Endpoint: Endpoint(d.Endpoint), State: State(d.State), Reachable: d.Reachable}
}

// DeviceFrom converts a wire device.
func DeviceFrom(d *pb.Device) discovery.Device {
	return discovery.Device{Endpoint: EndpointFrom(d.GetEndpoint()), State: StateFrom(d.GetState()), Reachable: d.GetReachable()}
}

// ---------------------------------------------------------------- commands

// Command converts a command to the wire.
func Command(c discovery.Command) *pb.Command {
	return &pb.Command{
		Trait: traitKinds[c.Trait], Instance: c.Instance, Power: cp(c.Power), Brightness: i32p(c.Brightness),
		Color: hsb(c.Color), ColorTemperature: i32p(c.ColorTemperature), Lock: locks[c.Lock],
		Thermostat: thermostatState(c.Thermostat), Toggle: cp(c.Toggle), Range: cp(c.Range), Mode: c.Mode,
	}
}

// CommandFrom converts a wire command.
func CommandFrom(c *pb.Command) discovery.Command {
	if c == nil {
		return discovery.Command{}
	}
	return discovery.Command{
		Trait: traitKindsBack[c.GetTrait()], Instance: c.GetInstance(), Power: cp(c.Power), Brightness: intp(c.Brightness),
		Color: hsbFrom(c.GetColor()), ColorTemperature: intp(c.ColorTemperature), Lock: locksBack[c.GetLock()],
		Thermostat: thermostatStateFrom(c.GetThermostat()), Toggle: cp(c.Toggle), Range: cp(c.Range), Mode: c.GetMode(),
	}
}

// Request converts a command request to the wire.
func Request(r discovery.Request) *pb.ExecuteRequest {
	return &pb.ExecuteRequest{CorrelationId: r.CorrelationID, DeviceId: r.DeviceID, Command: Command(r.Command), Deadline: ts(r.Deadline)}
}

// RequestFrom converts a wire command request.
func RequestFrom(r *pb.ExecuteRequest) discovery.Request {
	return discovery.Request{CorrelationID: r.GetCorrelationId(), DeviceID: r.GetDeviceId(),
		Command: CommandFrom(r.GetCommand()), Deadline: fromTS(r.GetDeadline())}
}

// Error converts a typed error to the wire (nil for nil). An unknown kind
// becomes INTERNAL.
func Error(e *discovery.Error) *pb.Error {
	if e == nil {
		return nil
	}
	k, ok := errorKinds[e.Kind]
	if !ok {
		k = pb.ErrorKind_ERROR_KIND_INTERNAL
	}
	return &pb.Error{Kind: k, Message: e.Message, Min: e.Min, Max: e.Max, MinDelta: e.MinDelta, Percentage: int32(e.Percentage)}
}

// ErrorFrom converts a wire error (nil for nil). An unknown kind becomes ErrInternal.
func ErrorFrom(e *pb.Error) *discovery.Error {
	if e == nil {
		return nil
	}
	k, ok := errorKindsBack[e.GetKind()]
	if !ok {
		k = discovery.ErrInternal
	}
	return &discovery.Error{Kind: k, Message: e.GetMessage(), Min: e.GetMin(), Max: e.GetMax(),
		MinDelta: e.GetMinDelta(), Percentage: int(e.GetPercentage())}
}

// Result converts an Execute outcome to the wire: a Result when err is nil, else
// the error as a typed *discovery.Error (see discovery.AsError).
func Result(r discovery.Result, err error) *pb.ExecuteResponse {
	if err != nil {
		return &pb.ExecuteResponse{Outcome: &pb.ExecuteResponse_Error{Error: Error(discovery.AsError(err))}}
	}
	if r.Status == discovery.Accepted {
		return &pb.ExecuteResponse{Outcome: &pb.ExecuteResponse_Accepted{Accepted: &pb.Accepted{
			State: State(r.State), EstimatedDeferral: durationpb.New(r.EstimatedDeferral)}}}
	}
	return &pb.ExecuteResponse{Outcome: &pb.ExecuteResponse_Done{Done: &pb.Done{State: State(r.State)}}}
}

// ResultFrom converts a wire Execute outcome. A response with no outcome is an
// internal error.
func ResultFrom(r *pb.ExecuteResponse) (discovery.Result, error) {
	switch o := r.GetOutcome().(type) {
	case *pb.ExecuteResponse_Done:
		return discovery.Result{Status: discovery.Done, State: StateFrom(o.Done.GetState())}, nil
	case *pb.ExecuteResponse_Accepted:
		d := o.Accepted.GetEstimatedDeferral().AsDuration()
		if d < 0 {
			d = 0
		}
		return discovery.Result{Status: discovery.Accepted, State: StateFrom(o.Accepted.GetState()), EstimatedDeferral: d}, nil
	case *pb.ExecuteResponse_Error:
		if e := ErrorFrom(o.Error); e != nil {
			return discovery.Result{}, e
		}
	}
	return discovery.Result{}, &discovery.Error{Kind: discovery.ErrInternal, Message: "the bridge sent an empty Execute response"}
}

// ---------------------------------------------------------------- events

// Health converts a health report to the wire.
func Health(h discovery.Health) *pb.Health {
	return &pb.Health{State: healths[h.State], Description: h.Description}
}

// HealthFrom converts a wire health report.
func HealthFrom(h *pb.Health) discovery.Health {
	return discovery.Health{State: healthsBack[h.GetState()], Description: h.GetDescription()}
}

// Event converts a bridge event to the wire.
func Event(ev discovery.Event) *pb.Event {
	out := &pb.Event{Seq: ev.Seq, At: ts(ev.At)}
	switch ev.Kind {
	case discovery.EventHealth:
		var h discovery.Health
		if ev.Health != nil {
			h = *ev.Health
		}
		out.Kind = &pb.Event_Health{Health: Health(h)}
	case discovery.EventSnapshot:
		out.Kind = &pb.Event_Snapshot{Snapshot: &pb.Snapshot{Devices: mapSlice(ev.Devices, Device)}}
	case discovery.EventUpsert:
		var d discovery.Device
		if ev.Device != nil {
			d = *ev.Device
		}
		out.Kind = &pb.Event_Upsert{Upsert: Device(d)}
	case discovery.EventRemove:
		out.Kind = &pb.Event_Remove{Remove: &pb.Remove{DeviceId: ev.DeviceID}}
	case discovery.EventState:
		out.Kind = &pb.Event_State{State: &pb.StateChange{DeviceId: ev.DeviceID, Changed: State(ev.State), Cause: string(ev.Cause)}}
	case discovery.EventReachability:
		out.Kind = &pb.Event_Reachability{Reachability: &pb.Reachability{DeviceId: ev.DeviceID, Reachable: ev.Reachable}}
	case discovery.EventCompletion:
		var c discovery.Completion
		if ev.Completion != nil {
			c = *ev.Completion
		}
		out.Kind = &pb.Event_Completion{Completion: &pb.Completion{CorrelationId: c.CorrelationID, Error: Error(c.Err), State: State(c.State)}}
	}
	return out
}

// EventFrom converts a wire event. ok is false for an event without a kind
// (e.g. one from a newer protocol minor this hub does not know): skip it.
func EventFrom(ev *pb.Event) (out discovery.Event, ok bool) {
	out = discovery.Event{Seq: ev.GetSeq(), At: fromTS(ev.GetAt())}
	switch k := ev.GetKind().(type) {
	case *pb.Event_Health:
		h := HealthFrom(k.Health)
		out.Kind, out.Health = discovery.EventHealth, &h
	case *pb.Event_Snapshot:
		out.Kind, out.Devices = discovery.EventSnapshot, mapSlice(k.Snapshot.GetDevices(), DeviceFrom)
	case *pb.Event_Upsert:
		d := DeviceFrom(k.Upsert)
		out.Kind, out.Device = discovery.EventUpsert, &d
	case *pb.Event_Remove:
		out.Kind, out.DeviceID = discovery.EventRemove, k.Remove.GetDeviceId()
	case *pb.Event_State:
		out.Kind, out.DeviceID = discovery.EventState, k.State.GetDeviceId()
		out.State, out.Cause = StateFrom(k.State.GetChanged()), discovery.Cause(k.State.GetCause())
	case *pb.Event_Reachability:
		out.Kind, out.DeviceID, out.Reachable = discovery.EventReachability, k.Reachability.GetDeviceId(), k.Reachability.GetReachable()
	case *pb.Event_Completion:
		out.Kind = discovery.EventCompletion
		out.Completion = &discovery.Completion{CorrelationID: k.Completion.GetCorrelationId(),
			Err: ErrorFrom(k.Completion.GetError()), State: StateFrom(k.Completion.GetState())}
	default:
		return out, false
	}
	return out, true
}

// Duration converts a duration to the wire.
func Duration(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
