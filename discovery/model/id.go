package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits Alexa puts on endpoint descriptions.
const (
	MaxEndpointIDLen   = 256
	MaxFriendlyNameLen = 128
	MaxDescriptionLen  = 128
)

// EndpointID derives the globally unique, stable Alexa endpoint id of a bridged
// device from the hub's serial number, the bridge name and the bridge's device id:
// "<serial>::<bridge>::<device>". Characters outside Alexa's endpointId charset
// ([a-zA-Z0-9_\-=#;:?@&]), and '_', ':' and '#' themselves, are escaped as "_xx"
// (hex), so distinct inputs give distinct ids; an id longer than 256 characters
// keeps a prefix, '#' and a hash.
func EndpointID(serial, bridge, deviceID string) string {
	// One builder for the whole id (the registry makes one per bridge event).
	var b strings.Builder
	b.Grow(len(serial) + len(bridge) + len(deviceID) + 4)
	writeEscapedID(&b, serial)
	b.WriteString("::")
	writeEscapedID(&b, bridge)
	b.WriteString("::")
	writeEscapedID(&b, deviceID)
	id := b.String()
	if len(id) <= MaxEndpointIDLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:16])
	return id[:MaxEndpointIDLen-len(h)-1] + "#" + h
}

// ValidEndpointID reports whether id fits Alexa's charset and length.
func ValidEndpointID(id string) bool {
	if id == "" || len(id) > MaxEndpointIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return false
		}
	}
	return true
}

func idChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_-=#;:?@&", c) >= 0
}

func writeEscapedID(b *strings.Builder, s string) {
	const hexDigits = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		// '_' is the escape character itself, ':' makes the separator and '#'
		// marks a hashed id, so all three are escaped: distinct inputs stay distinct.
		if idChar(c) && c != '_' && c != ':' && c != '#' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_') // "_%02x"
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
}

// ValidateFriendlyName checks a friendly name against Alexa's rules.
func ValidateFriendlyName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("friendly name is empty")
	case !utf8.ValidString(name):
		return fmt.Errorf("friendly name %q is not valid UTF-8", name)
	case utf8.RuneCountInString(name) > MaxFriendlyNameLen:
		return fmt.Errorf("friendly name %q is longer than %d characters", name, MaxFriendlyNameLen)
	}
	return nil
}

// Rename is one friendly name the hub changed to make names unique.
type Rename struct {
	ID   string
	From string
	To   string
}

// DedupeFriendlyNames makes friendly names unique among eps (compared without
// case and surrounding spaces), in place. The endpoint with the smallest id keeps
// its name; the others get " 2", " 3"… in id order, so the fix is deterministic.
// Names that are empty, too long or not UTF-8 are repaired first. It returns what it renamed.
func DedupeFriendlyNames(eps []Endpoint) []Rename {
	idx := make([]int, len(eps))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return eps[idx[a]].ID < eps[idx[b]].ID })
	taken := make(map[string]bool, len(eps))
	// next remembers, per base name, the first suffix not yet tried: every
	// smaller one was taken and stays taken, so n duplicates cost O(n), not O(n²).
	next := map[string]int{}
	var renames []Rename
	for _, i := range idx {
		ep := &eps[i]
		orig := ep.FriendlyName
		base := FriendlyNameBase(*ep)
		name := base
		if taken[strings.ToLower(name)] {
			n := max(next[base], 2)
			for ; ; n++ {
				suffix := fmt.Sprintf(" %d", n)
				name = truncateRunes(base, MaxFriendlyNameLen-len(suffix)) + suffix
				if !taken[strings.ToLower(name)] {
					break
				}
			}
			next[base] = n + 1
		}
		taken[strings.ToLower(name)] = true
		if name != orig {
			ep.FriendlyName = name
			renames = append(renames, Rename{ID: ep.ID, From: orig, To: name})
		}
	}
	return renames
}

// FriendlyNameBase is the name DedupeFriendlyNames starts from for ep: its
// friendly name repaired (valid UTF-8, trimmed, "Device <id>" when empty, cut to
// MaxFriendlyNameLen), before any " 2" suffix.
func FriendlyNameBase(ep Endpoint) string {
	name := strings.TrimSpace(strings.ToValidUTF8(ep.FriendlyName, "\uFFFD"))
	if name == "" {
		name = "Device " + ep.DeviceID
	}
	return truncateRunes(name, MaxFriendlyNameLen)
}

func truncateRunes(s string, n int) string { return strings.TrimSpace(Truncate(s, n)) }
