package publish

import (
	"sync"
)

// pageCache keeps rendered public pages by key. Published revisions never change, so an
// entry is only dropped when the set of published revisions changes (a publication, a
// retirement, an unpublishing), which Invalidate is told about, here and, through
// PostgreSQL NOTIFY, on every other instance.
type pageCache struct {
	mu      sync.RWMutex
	entries map[string]*cachedPage
	max     int
}

type cachedPage struct {
	body         []byte
	etag         string
	lastModified string
	contentType  string
	algorithmID  string
	// gz is the page compressed with gzip, made once, on the first request that accepts it
	// (see gzipped in public.go); nil when compression would not make it smaller.
	gzOnce sync.Once
	gz     *cachedPage
	// hdr is made once, on the first request (see header in public.go).
	headerOnce sync.Once
	hdr        pageHeader
}

func newPageCache(max int) *pageCache {
	return &pageCache{entries: map[string]*cachedPage{}, max: max}
}

func (c *pageCache) get(key string) (*cachedPage, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.entries[key]
	return p, ok
}

func (c *pageCache) put(key string, p *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		// Crude but bounded: start again rather than track recency. Pages are cheap to
		// rebuild and the working set of a register is small.
		c.entries = map[string]*cachedPage{}
	}
	c.entries[key] = p
}

// invalidate drops every page of an algorithm, or everything when algorithmID is empty
// (listings and feeds depend on all entries).
func (c *pageCache) invalidate(algorithmID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.entries {
		if algorithmID == "" || p.algorithmID == algorithmID || p.algorithmID == "" {
			delete(c.entries, k)
		}
	}
}
