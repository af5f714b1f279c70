package credcache

import (
	"testing"
	"time"
)

func TestCacheForgetsByUserAndGeneration(t *testing.T) {
	c := New[string, string](time.Hour, 10)
	_, _, gen, ok := c.Get("a")
	if ok {
		t.Fatal("empty cache hit")
	}
	c.Put("a", 1, "state-a", gen, time.Now())
	c.Put("b", 2, "state-b", gen, time.Now())
	if st, user, _, ok := c.Get("a"); !ok || st != "state-a" || user != 1 {
		t.Fatalf("Get(a) = %q, %d, %v", st, user, ok)
	}

	// A state read before a forget is not stored: it may predate the change.
	_, _, stale, _ := c.Get("c")
	c.ForgetUser(1)
	c.Put("c", 3, "state-c", stale, time.Now())
	if _, _, _, ok := c.Get("c"); ok {
		t.Fatal("a state read before a forget was stored")
	}
	if _, _, _, ok := c.Get("a"); ok {
		t.Fatal("user 1's entry outlived ForgetUser(1)")
	}
	if _, _, _, ok := c.Get("b"); !ok {
		t.Fatal("ForgetUser(1) dropped user 2's entry")
	}
	_, _, gen, _ = c.Get("b")
	c.ForgetUser(0)
	if _, _, _, ok := c.Get("b"); ok {
		t.Fatal("ForgetUser(0) kept an entry")
	}
	c.Put("d", 4, "state-d", gen, time.Now())
	if _, _, _, ok := c.Get("d"); ok {
		t.Fatal("a state read before ForgetUser(0) was stored")
	}
}

func TestCacheExpiresAndBounds(t *testing.T) {
	c := New[int, int](time.Minute, 3)
	_, _, gen, _ := c.Get(0)
	c.Put(1, 1, 10, gen, time.Now().Add(-2*time.Minute))
	if _, _, _, ok := c.Get(1); ok {
		t.Fatal("an entry older than the ttl was returned")
	}
	for k := 2; k <= 4; k++ {
		c.Put(k, int64(k), k*10, gen, time.Now())
	}
	// The fourth distinct key went past max (3): the cache started over with it.
	if _, _, _, ok := c.Get(2); ok {
		t.Fatal("the cache grew past its bound")
	}
	if v, _, _, ok := c.Get(4); !ok || v != 40 {
		t.Fatalf("Get(4) = %d, %v", v, ok)
	}

	off := New[int, int](0, 3)
	off.Put(1, 1, 10, 0, time.Now())
	if _, _, _, ok := off.Get(1); ok {
		t.Fatal("a zero ttl cached")
	}
}
