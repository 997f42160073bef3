package alexa

import "github.com/avshub/avshub/discovery/model"

// Mode values of InstanceLock.
const (
	LockValueLocked   = "Lock.Locked"
	LockValueUnlocked = "Lock.Unlocked"
	LockValueJammed   = "Lock.Jammed"
)

// lock: the Lock.State ModeController (avs), Alexa.LockController (smarthome).
func init() {
	register(model.TraitLock, traitRendering{
		avs: rendering{
			caps: func(p *profile, t model.Traits) ([]capability, error) {
				if t.Lock == nil {
					return nil, nil
				}
				c := modeCap(InstanceLock, p.builtinNames("", txtLock), modeConfig{SupportedModes: []modeValue{
					{Value: LockValueLocked, ModeResources: resources{p.builtinNames("", txtLocked)}},
					{Value: LockValueUnlocked, ModeResources: resources{p.builtinNames("", txtUnlocked)}},
					{Value: LockValueJammed, ModeResources: resources{p.builtinNames("", txtJammed)}},
				}}, false)
				// "Close" locks; no action unlocks (unlocking by a generic "open" is
				// a security risk). States answer "is the door closed/open?".
				c.Semantics = &semantics{
					ActionMappings: []actionMapping{{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Close"},
						Directive: semanticCommand{Name: "SetMode", Payload: map[string]string{"mode": LockValueLocked}}}},
					StateMappings: []stateMapping{
						{Type: "StatesToValue", States: []string{"Alexa.States.Closed"}, Value: LockValueLocked},
						{Type: "StatesToValue", States: []string{"Alexa.States.Open"}, Value: LockValueUnlocked},
					},
				}
				return []capability{c}, nil
			},
			props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.Lock == nil || st.Lock == "" {
					return nil
				}
				v := map[model.LockState]string{model.Locked: LockValueLocked, model.Unlocked: LockValueUnlocked, model.Jammed: LockValueJammed}[st.Lock]
				if v == "" {
					return nil
				}
				return []Property{prop(nsMode, InstanceLock, "mode", v)}
			},
			decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsMode || d.Header.Instance != InstanceLock || t.Lock == nil {
					return Intent{}, false, nil
				}
				v, err := decodeMode(d, "", nil, false)
				if err != nil {
					return Intent{}, true, err
				}
				switch v {
				case LockValueLocked:
					return Intent{Command: model.SetLock(model.Locked)}, true, nil
				case LockValueUnlocked:
					return Intent{Command: model.SetLock(model.Unlocked)}, true, nil
				case LockValueJammed:
					return Intent{}, true, model.Errorf(model.ErrInvalidValue, "%s is a state a lock reports, not one it can be set to", LockValueJammed)
				}
				return Intent{}, true, model.Errorf(model.ErrInvalidValue, "%s has no value %q", InstanceLock, v)
			},
		},
		smartHome: rendering{
			caps: func(_ *profile, t model.Traits) ([]capability, error) {
				if t.Lock == nil {
					return nil, nil
				}
				return []capability{iface(nsLock, "", "lockState")}, nil
			},
			props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.Lock == nil {
					return nil
				}
				switch st.Lock {
				case model.Locked, model.Unlocked, model.Jammed:
					return []Property{prop(nsLock, "", "lockState", string(st.Lock))}
				}
				return nil
			},
			decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsLock || t.Lock == nil {
					return Intent{}, false, nil
				}
				switch d.Header.Name {
				case "Lock":
					return Intent{Command: model.SetLock(model.Locked)}, true, nil
				case "Unlock":
					return Intent{Command: model.SetLock(model.Unlocked)}, true, nil
				}
				return Intent{}, false, nil
			},
		},
	})
}
