package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// checker holds the canonical watch stream (every event under the prefix
// from revision 1 on) and checks the clients' operations against it.
type checker struct {
	stream   []event
	byKey    map[string][]event
	byValue  map[string][]event
	failures []string
}

func (c *checker) fail(format string, args ...interface{}) {
	if len(c.failures) < 200 {
		c.failures = append(c.failures, fmt.Sprintf(format, args...))
	}
}

// checkStreams: each watcher's stream is well formed, and all are identical.
func (c *checker) checkStreams(streams [][]event) {
	for w, s := range streams {
		seen := map[string]bool{}
		last := map[string]event{}
		exists := map[string]bool{}
		for i, e := range s {
			if i > 0 && e.rev < s[i-1].rev {
				c.fail("watcher %d: revision went back from %d to %d", w, s[i-1].rev, e.rev)
			}
			id := fmt.Sprintf("%d/%s", e.rev, e.key)
			if seen[id] {
				c.fail("watcher %d: event %s delivered twice", w, id)
			}
			seen[id] = true
			prev, had := last[e.key]
			switch {
			case e.delete && !exists[e.key]:
				c.fail("watcher %d: delete of absent key %s at %d", w, e.key, e.rev)
			case !e.delete && !exists[e.key] && (e.createRev != e.rev || e.version != 1):
				c.fail("watcher %d: creation of %s at %d has create_revision %d version %d", w, e.key, e.rev, e.createRev, e.version)
			case !e.delete && exists[e.key] && (e.createRev != prev.createRev || e.version != prev.version+1):
				c.fail("watcher %d: %s at %d: create_revision %d version %d after %d/%d", w, e.key, e.rev,
					e.createRev, e.version, prev.createRev, prev.version)
			}
			_ = had
			last[e.key] = e
			exists[e.key] = !e.delete
		}
	}
	for w := 1; w < len(streams); w++ {
		a, b := streams[0], streams[w]
		n := len(a)
		if len(b) < n {
			n = len(b)
		}
		for i := 0; i < n; i++ {
			if a[i].rev != b[i].rev || a[i].key != b[i].key || a[i].value != b[i].value || a[i].delete != b[i].delete {
				c.fail("watchers 0 and %d differ at event %d: %+v vs %+v", w, i, a[i], b[i])
				break
			}
		}
		if len(a) != len(b) {
			c.fail("watchers 0 and %d saw %d and %d events", w, len(a), len(b))
		}
	}
	c.stream = streams[0]
	c.byKey, c.byValue = map[string][]event{}, map[string][]event{}
	for _, e := range c.stream {
		c.byKey[e.key] = append(c.byKey[e.key], e)
		if !e.delete {
			c.byValue[e.value] = append(c.byValue[e.value], e)
		}
	}
}

// stateAt is key's (exists, value, mod_revision) at revision rev.
func (c *checker) stateAt(key string, rev int64) (bool, string, int64) {
	h := c.byKey[key]
	i := sort.Search(len(h), func(i int) bool { return h[i].rev > rev }) - 1
	if i < 0 || h[i].delete {
		return false, "", 0
	}
	return true, h[i].value, h[i].rev
}

func isWrite(o op) bool {
	return o.ok && (o.kind == "put" || o.kind == "leaseput" || (o.kind == "cas" && o.success))
}

// checkOps checks every operation against the stream and real time.
func (c *checker) checkOps(ops []op, finalRev int64) {
	attempted := map[string]bool{}
	for _, o := range ops {
		if o.kind == "put" || o.kind == "leaseput" || o.kind == "cas" {
			attempted[o.value] = true
		}
	}
	for v, evs := range c.byValue {
		if !attempted[v] {
			c.fail("value %q at revision %d was never written by a client", v, evs[0].rev)
		}
	}
	// Acknowledged writes by return time, with the running maximum revision.
	var writes []op
	for _, o := range ops {
		if isWrite(o) {
			writes = append(writes, o)
		}
	}
	sort.Slice(writes, func(i, j int) bool { return writes[i].ret < writes[j].ret })
	maxRev := make([]int64, len(writes))
	for i, w := range writes {
		maxRev[i] = w.rev
		if i > 0 && maxRev[i-1] > maxRev[i] {
			maxRev[i] = maxRev[i-1]
		}
	}
	// The highest revision acknowledged before t.
	before := func(t time.Duration) (int64, op) {
		i := sort.Search(len(writes), func(i int) bool { return writes[i].ret >= t }) - 1
		if i < 0 {
			return 0, op{}
		}
		return maxRev[i], writes[i]
	}
	for _, o := range ops {
		if !o.ok {
			if (o.kind == "put" || o.kind == "leaseput" || o.kind == "cas") && len(c.byValue[o.value]) > 1 {
				c.fail("unacknowledged %s %s=%s applied %d times", o.kind, o.key, o.value, len(c.byValue[o.value]))
			}
			continue
		}
		if o.header > finalRev {
			c.fail("%s %s answered revision %d beyond the final %d", o.kind, o.key, o.header, finalRev)
		}
		switch {
		case isWrite(o):
			evs := c.byValue[o.value]
			if len(evs) != 1 || evs[0].rev != o.rev || evs[0].key != o.key {
				c.fail("acknowledged %s %s=%s at revision %d: in the history %d times %+v", o.kind, o.key, o.value, o.rev, len(evs), evs)
				continue
			}
			if m, w := before(o.invoke); o.rev <= m {
				c.fail("%s %s=%s got revision %d, not above %d acknowledged before it began (%s %s=%s)",
					o.kind, o.key, o.value, o.rev, m, w.kind, w.key, w.value)
			}
			if o.kind == "cas" {
				found, _, mod := c.stateAt(o.key, o.rev-1)
				if !found {
					mod = 0
				}
				if mod != o.prevRev {
					c.fail("CAS fork: %s=%s at %d succeeded on mod_revision %d but the key's mod_revision was %d",
						o.key, o.value, o.rev, o.prevRev, mod)
				}
			}
		case o.kind == "cas":
			if len(c.byValue[o.value]) > 0 {
				c.fail("failed CAS %s=%s was applied", o.key, o.value)
			}
			_, _, mod := c.stateAt(o.key, o.header)
			if mod == o.prevRev {
				c.fail("CAS %s on mod_revision %d failed, but at revision %d the key's mod_revision was %d",
					o.key, o.prevRev, o.header, mod)
			}
			if m, w := before(o.invoke); o.header < m {
				c.fail("CAS %s answered at revision %d, below %d acknowledged before it began (%s %s)", o.key, o.header, m, w.kind, w.key)
			}
		case o.kind == "get" || o.kind == "sget":
			found, value, mod := c.stateAt(o.key, o.header)
			if found != o.found || value != o.value || mod != o.rev {
				c.fail("%s %s at revision %d read (%v %q mod %d), history has (%v %q mod %d)",
					o.kind, o.key, o.header, o.found, o.value, o.rev, found, value, mod)
			}
			if o.kind == "get" {
				if m, w := before(o.invoke); o.header < m {
					c.fail("stale linearizable get %s: revision %d, below %d acknowledged before it began (%s %s=%s)",
						o.key, o.header, m, w.kind, w.key, w.value)
				}
			}
		}
	}
}

// checkLeases: an acknowledged revoke deleted the key by its revision; a
// key deleted before its revoke was sent counts as an expiry, and one
// whose keep-alives never paused for half the TTL is a defect.
func (c *checker) checkLeases(leases []leaseRecord) (expired int) {
	for _, l := range leases {
		h := c.byKey[l.key]
		var del *event
		for i := range h {
			if h[i].delete {
				del = &h[i]
				break
			}
		}
		if len(h) == 0 {
			continue // the put never happened
		}
		if l.revokedOK && (del == nil || del.rev > l.revokeRev) {
			c.fail("lease %x revoked at revision %d but its key %s was not deleted by then (%+v)", l.id, l.revokeRev, l.key, del)
		}
		if del != nil && del.received < l.revokeAt {
			expired++
			if l.maxGap < time.Duration(l.ttl)*time.Second/2 {
				c.fail("lease %x (TTL %d s) expired although its keep-alives were answered at most %v apart (key %s deleted at %d)",
					l.id, l.ttl, l.maxGap, l.key, del.rev)
			}
		}
	}
	return expired
}

// finalState is the stream replayed to its end: key -> value.
func (c *checker) finalState() map[string]string {
	state := map[string]string{}
	for _, e := range c.stream {
		if e.delete {
			delete(state, e.key)
		} else {
			state[e.key] = e.value
		}
	}
	return state
}

func summarize(ops []op) string {
	counts := map[string]int{}
	errs := map[string]int{}
	for _, o := range ops {
		outcome := "ok"
		if !o.ok {
			outcome = "unknown"
			e := o.err
			if i := strings.Index(e, "desc = "); i >= 0 {
				e = e[i+7:]
			}
			errs[e]++
		}
		counts[o.kind+" "+outcome]++
	}
	var parts []string
	for k, v := range counts {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	var es []string
	for k, v := range errs {
		es = append(es, fmt.Sprintf("%d× %s", v, k))
	}
	sort.Strings(es)
	if len(es) > 8 {
		es = es[:8]
	}
	return strings.Join(parts, " ") + "; errors: " + strings.Join(es, " | ")
}
