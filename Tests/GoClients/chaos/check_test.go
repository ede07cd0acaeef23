package main

import (
	"strings"
	"testing"
	"time"
)

// The checker must flag each kind of violation it claims to find (a checker
// that cannot fail proves nothing); scripts/chaos.sh runs these first.

func put(key, value string, rev int64) event {
	return event{rev: rev, modRev: rev, key: key, value: value}
}

func history() []event {
	a1 := put("k", "a", 2)
	a1.createRev, a1.version = 2, 1
	a2 := put("k", "b", 3)
	a2.createRev, a2.version = 2, 2
	a3 := put("k", "c", 4)
	a3.createRev, a3.version = 2, 3
	return []event{a1, a2, a3}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func failuresOf(ops []op, streams ...[]event) []string {
	if len(streams) == 0 {
		streams = [][]event{history(), history()}
	}
	c := &checker{}
	c.checkStreams(streams)
	c.checkOps(ops, 4)
	return c.failures
}

func expectFailure(t *testing.T, failures []string, want string) {
	t.Helper()
	for _, f := range failures {
		if strings.Contains(f, want) {
			return
		}
	}
	t.Fatalf("no failure containing %q in %q", want, failures)
}

func TestConsistentHistoryPasses(t *testing.T) {
	ops := []op{
		{kind: "put", key: "k", value: "a", rev: 2, header: 2, ok: true, invoke: ms(0), ret: ms(1)},
		{kind: "cas", key: "k", value: "b", prevRev: 2, rev: 3, header: 3, ok: true, success: true, invoke: ms(2), ret: ms(3)},
		{kind: "cas", key: "k", value: "x", prevRev: 2, header: 3, ok: true, invoke: ms(2), ret: ms(4)},
		{kind: "get", key: "k", value: "b", rev: 3, header: 3, found: true, ok: true, invoke: ms(4), ret: ms(5)},
		{kind: "put", key: "k", value: "c", ok: false, invoke: ms(6), ret: ms(9)},
		{kind: "sget", key: "k", value: "a", rev: 2, header: 2, found: true, ok: true, invoke: ms(7), ret: ms(8)},
	}
	if f := failuresOf(ops); len(f) != 0 {
		t.Fatalf("unexpected failures: %q", f)
	}
}

func TestLostAcknowledgedWrite(t *testing.T) {
	ops := []op{{kind: "put", key: "k", value: "z", rev: 5, header: 5, ok: true, invoke: ms(0), ret: ms(1)}}
	expectFailure(t, failuresOf(ops), "acknowledged put k=z")
}

func TestCASFork(t *testing.T) {
	ops := []op{
		{kind: "put", key: "k", value: "a", rev: 2, header: 2, ok: true, invoke: ms(0), ret: ms(1)},
		{kind: "cas", key: "k", value: "b", prevRev: 2, rev: 3, header: 3, ok: true, success: true, invoke: ms(2), ret: ms(3)},
		{kind: "cas", key: "k", value: "c", prevRev: 2, rev: 4, header: 4, ok: true, success: true, invoke: ms(2), ret: ms(3)},
	}
	expectFailure(t, failuresOf(ops), "CAS fork")
}

func TestFailedCASThatShouldHaveSucceeded(t *testing.T) {
	ops := []op{{kind: "cas", key: "k", value: "q", prevRev: 4, header: 4, ok: true, invoke: ms(0), ret: ms(1)}}
	expectFailure(t, failuresOf(ops), "failed, but at revision 4")
}

func TestStaleLinearizableRead(t *testing.T) {
	ops := []op{
		{kind: "put", key: "k", value: "c", rev: 4, header: 4, ok: true, invoke: ms(0), ret: ms(1)},
		{kind: "get", key: "k", value: "b", rev: 3, header: 3, found: true, ok: true, invoke: ms(2), ret: ms(3)},
	}
	expectFailure(t, failuresOf(ops), "stale linearizable get")
}

func TestReadOfValueNotInHistory(t *testing.T) {
	ops := []op{{kind: "sget", key: "k", value: "zz", rev: 3, header: 3, found: true, ok: true, invoke: ms(0), ret: ms(1)}}
	expectFailure(t, failuresOf(ops), "history has")
}

func TestRevisionsAgainstRealTime(t *testing.T) {
	ops := []op{
		{kind: "put", key: "k", value: "c", rev: 4, header: 4, ok: true, invoke: ms(0), ret: ms(1)},
		{kind: "put", key: "k", value: "b", rev: 3, header: 3, ok: true, invoke: ms(2), ret: ms(3)},
	}
	expectFailure(t, failuresOf(ops), "not above 4")
}

func TestPhantomAndDuplicateEvents(t *testing.T) {
	h := history()
	dup := append(history(), h[2])
	expectFailure(t, failuresOf(nil, dup, dup), "delivered twice")
	expectFailure(t, failuresOf(nil), "never written by a client")
	short := history()[:2]
	expectFailure(t, failuresOf(nil, history(), short), "saw 3 and 2 events")
}

func TestLeaseChecks(t *testing.T) {
	c := &checker{}
	del := event{rev: 5, modRev: 5, key: "l", delete: true, received: ms(100)}
	lp := put("l", "v", 4)
	lp.createRev, lp.version = 4, 1
	c.checkStreams([][]event{{lp, del}})
	c.checkLeases([]leaseRecord{{id: 1, key: "l", ttl: 6, maxGap: ms(2000), revokeAt: ms(200), revokedOK: true, revokeRev: 5}})
	expectFailure(t, c.failures, "expired although its keep-alives")
	c.failures = nil
	c.checkLeases([]leaseRecord{{id: 1, key: "l", ttl: 6, maxGap: ms(4000), revokeAt: ms(50), revokedOK: true, revokeRev: 4}})
	expectFailure(t, c.failures, "not deleted by then")
}
