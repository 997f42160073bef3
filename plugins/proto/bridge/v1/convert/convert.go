// Package convert converts between the discovery device model and the bridge.v1
// protocol messages. It is the only place that knows both, so a field added to
// one side is added here and caught by the round-trip test.
//
// The trait parts (Traits, State, Command and the trait kinds) are generated
// from the trait definitions into traits_gen.go; this file holds the rest.
//
// Conversions are total: values the wire cannot name (an unknown error kind, a
// negative duration) map to the closest safe value rather than failing, and a
// nil message converts to the zero value.
package convert

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
)

// ---------------------------------------------------------------- enums

var errorKinds = map[model.ErrorKind]pb.ErrorKind{
	model.ErrUnreachable:                pb.ErrorKind_ERROR_KIND_UNREACHABLE,
	model.ErrBridgeUnreachable:          pb.ErrorKind_ERROR_KIND_BRIDGE_UNREACHABLE,
	model.ErrBusy:                       pb.ErrorKind_ERROR_KIND_BUSY,
	model.ErrOutOfRange:                 pb.ErrorKind_ERROR_KIND_OUT_OF_RANGE,
	model.ErrTemperatureOutOfRange:      pb.ErrorKind_ERROR_KIND_TEMPERATURE_OUT_OF_RANGE,
	model.ErrNotSupported:               pb.ErrorKind_ERROR_KIND_NOT_SUPPORTED,
	model.ErrInvalidValue:               pb.ErrorKind_ERROR_KIND_INVALID_VALUE,
	model.ErrHardwareFault:              pb.ErrorKind_ERROR_KIND_HARDWARE_FAULT,
	model.ErrLowPower:                   pb.ErrorKind_ERROR_KIND_LOW_POWER,
	model.ErrUnsupportedThermostatMode:  pb.ErrorKind_ERROR_KIND_UNSUPPORTED_THERMOSTAT_MODE,
	model.ErrThermostatIsOff:            pb.ErrorKind_ERROR_KIND_THERMOSTAT_IS_OFF,
	model.ErrSetpointsTooClose:          pb.ErrorKind_ERROR_KIND_SETPOINTS_TOO_CLOSE,
	model.ErrDualSetpointsUnsupported:   pb.ErrorKind_ERROR_KIND_DUAL_SETPOINTS_UNSUPPORTED,
	model.ErrTripleSetpointsUnsupported: pb.ErrorKind_ERROR_KIND_TRIPLE_SETPOINTS_UNSUPPORTED,
	model.ErrInternal:                   pb.ErrorKind_ERROR_KIND_INTERNAL,
}

var modes = map[model.ThermostatMode]pb.ThermostatMode{
	model.ModeHeat: pb.ThermostatMode_THERMOSTAT_MODE_HEAT,
	model.ModeCool: pb.ThermostatMode_THERMOSTAT_MODE_COOL,
	model.ModeAuto: pb.ThermostatMode_THERMOSTAT_MODE_AUTO,
	model.ModeEco:  pb.ThermostatMode_THERMOSTAT_MODE_ECO,
	model.ModeOff:  pb.ThermostatMode_THERMOSTAT_MODE_OFF,
}

var locks = map[model.LockState]pb.LockState{
	model.Locked:   pb.LockState_LOCK_STATE_LOCKED,
	model.Unlocked: pb.LockState_LOCK_STATE_UNLOCKED,
	model.Jammed:   pb.LockState_LOCK_STATE_JAMMED,
}

var pairingStages = map[model.PairingStage]pb.PairingStage{
	model.PairingOpen:         pb.PairingStage_PAIRING_STAGE_OPEN,
	model.PairingClosed:       pb.PairingStage_PAIRING_STAGE_CLOSED,
	model.PairingAnnounced:    pb.PairingStage_PAIRING_STAGE_ANNOUNCED,
	model.PairingInterviewing: pb.PairingStage_PAIRING_STAGE_INTERVIEWING,
	model.PairingPublished:    pb.PairingStage_PAIRING_STAGE_PUBLISHED,
	model.PairingFailed:       pb.PairingStage_PAIRING_STAGE_FAILED,
}

var healths = map[model.HealthState]pb.HealthState{
	model.HealthStarting:  pb.HealthState_HEALTH_STATE_STARTING,
	model.HealthHealthy:   pb.HealthState_HEALTH_STATE_HEALTHY,
	model.HealthUnhealthy: pb.HealthState_HEALTH_STATE_UNHEALTHY,
}

func invert[K, V comparable](m map[K]V) map[V]K {
	r := make(map[V]K, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

var (
	traitKindsBack    = invert(traitKinds)
	errorKindsBack    = invert(errorKinds)
	modesBack         = invert(modes)
	locksBack         = invert(locks)
	healthsBack       = invert(healths)
	pairingStagesBack = invert(pairingStages)
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
func Endpoint(e model.Endpoint) *pb.Endpoint {
	return &pb.Endpoint{
		Id: e.ID, Bridge: e.Bridge, DeviceId: e.DeviceID, FriendlyName: e.FriendlyName,
		Manufacturer: e.Manufacturer, Model: e.Model, Description: e.Description,
		Category: string(e.Category),
		Connections: mapSlice(e.Connections, func(c model.Connection) *pb.Connection {
			return &pb.Connection{Type: string(c.Type), MacAddress: c.MACAddress, Value: c.Value}
		}),
		Traits: Traits(e.Traits),
	}
}

// EndpointFrom converts a wire endpoint.
func EndpointFrom(e *pb.Endpoint) model.Endpoint {
	if e == nil {
		return model.Endpoint{}
	}
	return model.Endpoint{
		ID: e.GetId(), Bridge: e.GetBridge(), DeviceID: e.GetDeviceId(), FriendlyName: e.GetFriendlyName(),
		Manufacturer: e.GetManufacturer(), Model: e.GetModel(), Description: e.GetDescription(),
		Category: model.Category(e.GetCategory()),
		Connections: mapSlice(e.GetConnections(), func(c *pb.Connection) model.Connection {
			return model.Connection{Type: model.ConnectionType(c.GetType()), MACAddress: c.GetMacAddress(), Value: c.GetValue()}
		}),
		Traits: TraitsFrom(e.GetTraits()),
	}
}

func names(ns []model.Name) []*pb.Name {
	return mapSlice(ns, func(n model.Name) *pb.Name {
		return &pb.Name{Text: n.Text, Locale: n.Locale, AssetId: n.AssetID}
	})
}

func namesFrom(ns []*pb.Name) []model.Name {
	return mapSlice(ns, func(n *pb.Name) model.Name {
		return model.Name{Text: n.GetText(), Locale: n.GetLocale(), AssetID: n.GetAssetId()}
	})
}

func presets(ps []model.Preset) []*pb.Preset {
	return mapSlice(ps, func(p model.Preset) *pb.Preset { return &pb.Preset{Value: p.Value, Names: names(p.Names)} })
}

func presetsFrom(ps []*pb.Preset) []model.Preset {
	return mapSlice(ps, func(p *pb.Preset) model.Preset {
		return model.Preset{Value: p.GetValue(), Names: namesFrom(p.GetNames())}
	})
}

func modeValues(vs []model.ModeValue) []*pb.ModeValue {
	return mapSlice(vs, func(v model.ModeValue) *pb.ModeValue { return &pb.ModeValue{Value: v.Value, Names: names(v.Names)} })
}

func modeValuesFrom(vs []*pb.ModeValue) []model.ModeValue {
	return mapSlice(vs, func(v *pb.ModeValue) model.ModeValue {
		return model.ModeValue{Value: v.GetValue(), Names: namesFrom(v.GetNames())}
	})
}

// ---------------------------------------------------------------- state

func hsb(c *model.HSB) *pb.HSB {
	if c == nil {
		return nil
	}
	return &pb.HSB{Hue: c.Hue, Saturation: c.Saturation, Brightness: c.Brightness}
}

func hsbFrom(c *pb.HSB) *model.HSB {
	if c == nil {
		return nil
	}
	return &model.HSB{Hue: c.GetHue(), Saturation: c.GetSaturation(), Brightness: c.GetBrightness()}
}

func thermostatState(t *model.ThermostatState) *pb.ThermostatState {
	if t == nil {
		return nil
	}
	return &pb.ThermostatState{Mode: modes[t.Mode], Target: cp(t.Target), Lower: cp(t.Lower), Upper: cp(t.Upper)}
}

func thermostatStateFrom(t *pb.ThermostatState) *model.ThermostatState {
	if t == nil {
		return nil
	}
	return &model.ThermostatState{Mode: modesBack[t.GetMode()], Target: cp(t.Target), Lower: cp(t.Lower), Upper: cp(t.Upper)}
}

// Device converts a device to the wire.
func Device(d model.Device) *pb.Device {
	return &pb.Device{Endpoint: Endpoint(d.Endpoint), State: State(d.State), Reachable: d.Reachable, Link: Link(d.Link),
		StateAt: ts(d.StateAt)}
}

// DeviceFrom converts a wire device.
func DeviceFrom(d *pb.Device) model.Device {
	return model.Device{Endpoint: EndpointFrom(d.GetEndpoint()), State: StateFrom(d.GetState()), Reachable: d.GetReachable(),
		Link: LinkFrom(d.GetLink()), StateAt: fromTS(d.GetStateAt())}
}

// Link converts a device's radio link to the wire (nil for nil).
func Link(l *model.Link) *pb.Link {
	if l == nil {
		return nil
	}
	out := &pb.Link{Quality: i32p(l.Quality)}
	if !l.LastSeen.IsZero() {
		out.LastSeen = ts(l.LastSeen)
	}
	return out
}

// LinkFrom converts a wire radio link (nil for nil).
func LinkFrom(l *pb.Link) *model.Link {
	if l == nil {
		return nil
	}
	out := &model.Link{Quality: intp(l.Quality)}
	if l.GetLastSeen() != nil {
		out.LastSeen = fromTS(l.GetLastSeen())
	}
	return out
}

// ---------------------------------------------------------------- commands

// Request converts a command request to the wire.
func Request(r model.Request) *pb.ExecuteRequest {
	return &pb.ExecuteRequest{CorrelationId: r.CorrelationID, DeviceId: r.DeviceID, Command: Command(r.Command), Deadline: ts(r.Deadline)}
}

// RequestFrom converts a wire command request.
func RequestFrom(r *pb.ExecuteRequest) model.Request {
	return model.Request{CorrelationID: r.GetCorrelationId(), DeviceID: r.GetDeviceId(),
		Command: CommandFrom(r.GetCommand()), Deadline: fromTS(r.GetDeadline())}
}

// Error converts a typed error to the wire (nil for nil). An unknown kind
// becomes INTERNAL.
func Error(e *model.Error) *pb.Error {
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
func ErrorFrom(e *pb.Error) *model.Error {
	if e == nil {
		return nil
	}
	k, ok := errorKindsBack[e.GetKind()]
	if !ok {
		k = model.ErrInternal
	}
	return &model.Error{Kind: k, Message: e.GetMessage(), Min: e.GetMin(), Max: e.GetMax(),
		MinDelta: e.GetMinDelta(), Percentage: int(e.GetPercentage())}
}

// Result converts an Execute outcome to the wire: a Result when err is nil, else
// the error as a typed *model.Error (see model.AsError).
func Result(r model.Result, err error) *pb.ExecuteResponse {
	if err != nil {
		return &pb.ExecuteResponse{Outcome: &pb.ExecuteResponse_Error{Error: Error(model.AsError(err))}}
	}
	if r.Status == model.Accepted {
		return &pb.ExecuteResponse{Outcome: &pb.ExecuteResponse_Accepted{Accepted: &pb.Accepted{
			State: State(r.State), EstimatedDeferral: durationpb.New(r.EstimatedDeferral)}}}
	}
	return &pb.ExecuteResponse{Outcome: &pb.ExecuteResponse_Done{Done: &pb.Done{State: State(r.State)}}}
}

// ResultFrom converts a wire Execute outcome. A response with no outcome is an
// internal error.
func ResultFrom(r *pb.ExecuteResponse) (model.Result, error) {
	switch o := r.GetOutcome().(type) {
	case *pb.ExecuteResponse_Done:
		return model.Result{Status: model.Done, State: StateFrom(o.Done.GetState())}, nil
	case *pb.ExecuteResponse_Accepted:
		d := o.Accepted.GetEstimatedDeferral().AsDuration()
		if d < 0 {
			d = 0
		}
		return model.Result{Status: model.Accepted, State: StateFrom(o.Accepted.GetState()), EstimatedDeferral: d}, nil
	case *pb.ExecuteResponse_Error:
		if e := ErrorFrom(o.Error); e != nil {
			return model.Result{}, e
		}
	}
	return model.Result{}, &model.Error{Kind: model.ErrInternal, Message: "the bridge sent an empty Execute response"}
}

// ---------------------------------------------------------------- events

// Health converts a health report to the wire.
func Health(h model.Health) *pb.Health {
	return &pb.Health{State: healths[h.State], Description: h.Description}
}

// HealthFrom converts a wire health report.
func HealthFrom(h *pb.Health) model.Health {
	return model.Health{State: healthsBack[h.GetState()], Description: h.GetDescription()}
}

// Event converts a bridge event to the wire.
func Event(ev model.Event) *pb.Event {
	out := &pb.Event{Seq: ev.Seq, At: ts(ev.At)}
	switch ev.Kind {
	case model.EventHealth:
		var h model.Health
		if ev.Health != nil {
			h = *ev.Health
		}
		out.Kind = &pb.Event_Health{Health: Health(h)}
	case model.EventSnapshot:
		out.Kind = &pb.Event_Snapshot{Snapshot: &pb.Snapshot{Devices: mapSlice(ev.Devices, Device)}}
	case model.EventUpsert:
		var d model.Device
		if ev.Device != nil {
			d = *ev.Device
		}
		out.Kind = &pb.Event_Upsert{Upsert: Device(d)}
	case model.EventRemove:
		out.Kind = &pb.Event_Remove{Remove: &pb.Remove{DeviceId: ev.DeviceID}}
	case model.EventState:
		out.Kind = &pb.Event_State{State: &pb.StateChange{DeviceId: ev.DeviceID, Changed: State(ev.State), Cause: string(ev.Cause)}}
	case model.EventReachability:
		out.Kind = &pb.Event_Reachability{Reachability: &pb.Reachability{DeviceId: ev.DeviceID, Reachable: ev.Reachable}}
	case model.EventCompletion:
		var c model.Completion
		if ev.Completion != nil {
			c = *ev.Completion
		}
		out.Kind = &pb.Event_Completion{Completion: &pb.Completion{CorrelationId: c.CorrelationID, Error: Error(c.Err), State: State(c.State)}}
	case model.EventPairing:
		var p model.Pairing
		if ev.Pairing != nil {
			p = *ev.Pairing
		}
		out.Kind = &pb.Event_Pairing{Pairing: Pairing(p)}
	case model.EventLink:
		out.Kind = &pb.Event_Link{Link: &pb.LinkUpdate{DeviceId: ev.DeviceID, Link: Link(ev.Link)}}
	}
	return out
}

// Pairing converts a pairing progress report to the wire.
func Pairing(p model.Pairing) *pb.PairingProgress {
	out := &pb.PairingProgress{Stage: pairingStages[p.Stage], DeviceId: p.DeviceID, Detail: p.Detail,
		Remaining: durationpb.New(p.Remaining)}
	if p.Endpoint != nil {
		out.Endpoint = Endpoint(*p.Endpoint)
	}
	return out
}

// PairingFrom converts a wire pairing progress report. ok is false for a
// stage this hub does not know.
func PairingFrom(p *pb.PairingProgress) (out model.Pairing, ok bool) {
	out = model.Pairing{Stage: pairingStagesBack[p.GetStage()], DeviceID: p.GetDeviceId(), Detail: p.GetDetail(),
		Remaining: max(p.GetRemaining().AsDuration(), 0)}
	if e := p.GetEndpoint(); e != nil {
		ep := EndpointFrom(e)
		out.Endpoint = &ep
	}
	return out, out.Stage != ""
}

// EventFrom converts a wire event. ok is false for an event without a kind
// (e.g. one from a newer protocol minor this hub does not know): skip it.
func EventFrom(ev *pb.Event) (out model.Event, ok bool) {
	out = model.Event{Seq: ev.GetSeq(), At: fromTS(ev.GetAt())}
	switch k := ev.GetKind().(type) {
	case *pb.Event_Health:
		h := HealthFrom(k.Health)
		out.Kind, out.Health = model.EventHealth, &h
	case *pb.Event_Snapshot:
		out.Kind, out.Devices = model.EventSnapshot, mapSlice(k.Snapshot.GetDevices(), DeviceFrom)
	case *pb.Event_Upsert:
		d := DeviceFrom(k.Upsert)
		out.Kind, out.Device = model.EventUpsert, &d
	case *pb.Event_Remove:
		out.Kind, out.DeviceID = model.EventRemove, k.Remove.GetDeviceId()
	case *pb.Event_State:
		out.Kind, out.DeviceID = model.EventState, k.State.GetDeviceId()
		out.State, out.Cause = StateFrom(k.State.GetChanged()), model.Cause(k.State.GetCause())
	case *pb.Event_Reachability:
		out.Kind, out.DeviceID, out.Reachable = model.EventReachability, k.Reachability.GetDeviceId(), k.Reachability.GetReachable()
	case *pb.Event_Completion:
		out.Kind = model.EventCompletion
		out.Completion = &model.Completion{CorrelationID: k.Completion.GetCorrelationId(),
			Err: ErrorFrom(k.Completion.GetError()), State: StateFrom(k.Completion.GetState())}
	case *pb.Event_Pairing:
		p, known := PairingFrom(k.Pairing)
		if !known {
			return out, false
		}
		out.Kind, out.Pairing = model.EventPairing, &p
	case *pb.Event_Link:
		out.Kind, out.DeviceID, out.Link = model.EventLink, k.Link.GetDeviceId(), LinkFrom(k.Link.GetLink())
		if out.Link == nil {
			out.Link = &model.Link{}
		}
	default:
		return out, false
	}
	return out, true
}

// Duration converts a duration to the wire.
func Duration(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
