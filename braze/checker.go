package braze

import (
	"strings"
	"sync"
)

// maxCachedZones bounds the time zone names a checker remembers: the IANA
// database has about 600, so only input full of distinct bad names reaches
// it, and is then looked up each time rather than held.
const maxCachedZones = 4096

// checker is what validating user attributes reuses from one object to
// the next of a Client: the custom array cap and the time zone names
// already looked up. time.LoadLocation reads the zone database for each
// call (about 6.5 µs here), which at Braze's rate limit, 75 objects a
// request, would take 40% of a core when every object sets time_zone. It
// is safe for concurrent use.
type checker struct {
	maxArray int
	mu       sync.RWMutex
	zones    map[string]bool
}

func newChecker(maxArray int) *checker {
	return &checker{maxArray: maxArray, zones: make(map[string]bool)}
}

// timeZone reports whether name is an IANA time zone name (isTimeZone),
// remembering the answer.
func (k *checker) timeZone(name string) bool {
	k.mu.RLock()
	ok, hit := k.zones[name]
	k.mu.RUnlock()
	if hit {
		return ok
	}
	ok = isTimeZone(name)
	k.mu.Lock()
	if len(k.zones) < maxCachedZones {
		k.zones[strings.Clone(name)] = ok
	}
	k.mu.Unlock()
	return ok
}
