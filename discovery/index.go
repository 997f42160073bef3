package discovery

import (
	"slices"
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// The registry's indexes keep every operation on one endpoint independent of
// how many the registry holds (issue: 10,000 devices took ~100 s to register
// because every add re-sorted and re-deduplicated every endpoint, and counted
// them all for the metrics): the ids in order (for paging and for the Manager's
// first MaxEndpoints), the published friendly names (for de-duplication without
// a full pass in the common case) and the number of endpoints per bridge and
// category.

// idIndex is the registry's endpoint ids, sorted. Insert and remove are a
// binary search and a copy of the slice's tail (a memmove of at most 16 bytes per
// endpoint, a few microseconds at the per-bridge limit).
type idIndex struct{ ids []string }

func (x *idIndex) insert(id string) {
	if i, found := slices.BinarySearch(x.ids, id); !found {
		x.ids = slices.Insert(x.ids, i, id)
	}
}

func (x *idIndex) remove(id string) {
	if i, found := slices.BinarySearch(x.ids, id); found {
		x.ids = slices.Delete(x.ids, i, i+1)
	}
}

// after returns the position of the first id greater than after ("" = from the start).
func (x *idIndex) after(after string) int {
	if after == "" {
		return 0
	}
	i, found := slices.BinarySearch(x.ids, after)
	if found {
		i++
	}
	return i
}

// nameIndex holds the published friendly names (lower case → endpoint id) and
// how many endpoints were given a " 2"-style suffix. With it, adding an endpoint
// whose name nobody publishes, and removing one while no endpoint carries a
// suffix, give exactly what a full DedupeFriendlyNames pass gives (an endpoint
// only ever moves to a suffix because its name was taken), without the pass.
type nameIndex struct {
	taken    map[string]string
	suffixed int
}

func newNameIndex() nameIndex { return nameIndex{taken: map[string]string{}} }

// tryAdd publishes ep's base name if nobody holds it; false means a full pass is needed.
func (n *nameIndex) tryAdd(ep model.Endpoint) (string, bool) {
	name := model.FriendlyNameBase(ep)
	k := strings.ToLower(name)
	if _, held := n.taken[k]; held {
		return "", false
	}
	n.taken[k] = ep.ID
	return name, true
}

// tryRemove frees the name published for an endpoint whose reported form was
// reported; false means a full pass is needed (another endpoint may now get a
// name it had to skip).
func (n *nameIndex) tryRemove(reported model.Endpoint, published string) bool {
	k := strings.ToLower(published)
	if n.taken[k] == reported.ID {
		delete(n.taken, k)
	}
	if published != model.FriendlyNameBase(reported) {
		n.suffixed--
	}
	return n.suffixed == 0
}

// rebuild records the result of a full pass (eps reported, names published, same order).
func (n *nameIndex) rebuild(reported []model.Endpoint, published []string) {
	clear(n.taken)
	n.suffixed = 0
	for i, ep := range reported {
		n.taken[strings.ToLower(published[i])] = ep.ID
		if published[i] != model.FriendlyNameBase(ep) {
			n.suffixed++
		}
	}
}

// EndpointCount is how many endpoints of one category a bridge has.
type EndpointCount struct {
	Bridge   string
	Category model.Category
	N        int
}

type countKey struct {
	bridge   string
	category model.Category
}
