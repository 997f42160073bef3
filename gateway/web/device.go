package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// Commander is a Source that carries out a command from the page or the API
// through the same checks and errors as an Alexa directive (the router).
type Commander interface {
	Command(ctx context.Context, id string, cmd model.Command) (model.State, error)
}

// Interfacer is a Source that says which Alexa interfaces an endpoint has in
// the active profile.
type Interfacer interface {
	AlexaInterfaces(ep model.Endpoint) []string
}

// StateLine is one trait's state in words ("Brightness", "40 %").
type StateLine struct {
	Trait, Text string
}

func unitSuffix(u string) string {
	l := strings.ToLower(u)
	switch {
	case l == "":
		return ""
	case strings.Contains(l, "percent") || l == "%":
		return " %"
	}
	return " " + u[strings.LastIndexByte(u, '.')+1:]
}

func instanceName(instance string, names []model.Name) string {
	for _, n := range names {
		if n.Text != "" {
			return n.Text
		}
	}
	if i := strings.LastIndexByte(instance, '.'); i >= 0 {
		return instance[i+1:]
	}
	return instance
}

// colourName names a hue the way a person would.
func colourName(h, s float64) string {
	if s < 0.15 {
		return "white"
	}
	names := []struct {
		upTo float64
		name string
	}{{15, "red"}, {45, "orange"}, {70, "yellow"}, {160, "green"}, {200, "cyan"}, {260, "blue"}, {290, "purple"}, {335, "pink"}, {361, "red"}}
	for _, n := range names {
		if h < n.upTo {
			return n.name
		}
	}
	return "red"
}

// StateLines renders a state trait by trait.
func StateLines(t model.Traits, s model.State) []StateLine {
	var out []StateLine
	for _, w := range orderedWords() {
		out = append(out, w.lines(t, s)...)
	}
	return out
}

// deviceFuncs are the device page's template functions: the commands its
// controls send (built by the model, so that they are what the router
// validates), and values in the controls' units.
var deviceFuncs = template.FuncMap{
	"command": func(c model.Command) (string, error) {
		b, err := json.Marshal(c)
		return string(b), err
	},
	"setPower":     model.SetPower,
	"setLock":      model.SetLock,
	"setCover":     model.SetCoverPosition,
	"stopCover":    model.StopCover,
	"setFan":       model.SetFanSpeed,
	"setSiren":     model.SetSiren,
	"setToggle":    model.SetToggle,
	"setRange":     model.SetRange,
	"int":          func(f float64) int { return int(math.Round(f)) },
	"deref":        func(b *bool) bool { return b != nil && *b },
	"hex":          hexColour,
	"colourName":   colourName,
	"thermoStep":   func(t model.Thermostat) float64 { return cmp.Or(t.StepC, 0.5) },
	"presetName":   func(p model.Preset) string { return instanceName(strconv.FormatFloat(p.Value, 'g', -1, 64), p.Names) },
	"instanceName": instanceName,
	"unitSuffix":   unitSuffix,
	"unit":         func(u string) string { return strings.TrimSpace(unitSuffix(u)) },
}

// hexColour is the #rrggbb of a colour for the page's colour picker.
func hexColour(c model.HSB) string {
	h, s, v := math.Mod(c.Hue, 360)/60, c.Saturation, c.Brightness
	if v <= 0 {
		v = 1 // Alexa's colours carry brightness 1; 0 would show black
	}
	x := v * s * (1 - math.Abs(math.Mod(h, 2)-1))
	ch := v * s
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g = ch, x
	case 1:
		r, g = x, ch
	case 2:
		g, b = ch, x
	case 3:
		g, b = x, ch
	case 4:
		r, b = x, ch
	default:
		r, b = ch, x
	}
	m := v - ch
	to := func(f float64) int { return int(math.Round((f + m) * 255)) }
	return fmt.Sprintf("#%02x%02x%02x", to(r), to(g), to(b))
}

// controllable reports whether the endpoint takes any command.
// A trait the model says takes commands (not ReadOnly) is controllable; a
// generic one only by an instance that is not NonControllable.
func controllable(t model.Traits) bool {
	for _, k := range t.Kinds() {
		switch k {
		case model.TraitToggle, model.TraitRange, model.TraitMode:
		default:
			if !k.ReadOnly() {
				return true
			}
		}
	}
	for _, x := range t.Toggles {
		if !x.NonControllable {
			return true
		}
	}
	for _, x := range t.Ranges {
		if !x.NonControllable {
			return true
		}
	}
	for _, x := range t.Modes {
		if !x.NonControllable {
			return true
		}
	}
	return false
}

type devicePage struct {
	Controllable bool
	Endpoint     Endpoint
	Lines        []StateLine
	Interfaces   []string
	Status       Status
	Now          time.Time
}

func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	ep, err := Resolve(s.src.Endpoints(), r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	d := devicePage{Controllable: controllable(ep.Endpoint.Traits), Endpoint: ep, Lines: StateLines(ep.Endpoint.Traits, ep.State), Status: s.src.Status(), Now: time.Now()}
	if in, ok := s.src.(Interfacer); ok {
		d.Interfaces = in.AlexaInterfaces(ep.Endpoint)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	name := "device.html"
	if r.URL.Query().Get("fragment") != "" {
		name = "device-body"
	}
	if err := pageTmpl().ExecuteTemplate(w, name, d); err != nil {
		s.log.Error("device page", "err", err)
	}
}

// command carries out a command from the page: POST a model.Command as JSON.
func (s *Server) command(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Avshub") == "" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing X-Avshub header"})
		return
	}
	cm, ok := s.src.(Commander)
	if !ok {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this hub cannot carry out commands here"})
		return
	}
	var cmd model.Command
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cmd); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "that is not a command this hub understands", "details": err.Error()})
		return
	}
	ep, err := Resolve(s.src.Endpoints(), r.PathValue("ref"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	st, err := cm.Command(r.Context(), ep.Endpoint.ID, cmd)
	if err != nil {
		var de *model.Error
		if errors.As(err, &de) {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": HumanError(de), "kind": string(de.Kind), "details": de.Message})
			return
		}
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "the command failed", "details": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": st})
}

// HumanError says what went wrong in a person's words; the technical message
// goes behind a disclosure.
func HumanError(de *model.Error) string {
	switch de.Kind {
	case model.ErrUnreachable:
		return "The device does not answer. Is it powered and in range?"
	case model.ErrBridgeUnreachable:
		return "The bridge for this device is not running right now."
	case model.ErrOutOfRange:
		return "That value is outside what the device can do."
	case model.ErrNotSupported:
		return "This device cannot do that."
	case model.ErrInvalidValue:
		return "That value is not valid for this device."
	case model.ErrTemperatureOutOfRange:
		return "That temperature is outside what the thermostat can be set to."
	case model.ErrThermostatIsOff:
		return "The thermostat is off: choose a mode first."
	case model.ErrSetpointsTooClose:
		return "The two temperatures are too close together."
	case model.ErrUnsupportedThermostatMode:
		return "The thermostat has no such mode."
	case model.ErrDualSetpointsUnsupported, model.ErrTripleSetpointsUnsupported:
		return "The thermostat does not take those setpoints."
	case model.ErrBusy:
		return "The device is busy; try again in a moment."
	case model.ErrHardwareFault:
		return "The device reports a fault (a jammed lock, for example)."
	case model.ErrLowPower:
		return "The device's battery is too low for that."
	}
	return "The device could not do that."
}
