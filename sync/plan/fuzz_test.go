package plan

import "testing"

// byteChooser draws choices from fuzz input; once it runs out every choice
// is 0.
type byteChooser struct {
	b []byte
	i int
}

func (c *byteChooser) Intn(n int) int {
	if n <= 1 || c.i >= len(c.b) {
		return 0
	}
	v := int(c.b[c.i])
	c.i++
	if n > 256 {
		if c.i < len(c.b) {
			v = v<<8 | int(c.b[c.i])
			c.i++
		}
	}
	return v % n
}

// FuzzTwoWay builds two changed trees and a state from the input, plans a
// two-way sync, runs it on the in-memory executor and checks the same
// invariants as TestTwoWayProperties: nothing in unknown regions touched,
// both sides equal afterwards, no changed version lost, a second plan empty.
func FuzzTwoWay(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("ferry two-way sync"))
	f.Add([]byte{0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 255, 254})
	for seed := range uint64(8) {
		r := newRng(seed)
		b := make([]byte, 64)
		for i := range b {
			b[i] = byte(r.Intn(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &byteChooser{b: data}
		sc := newScenario(c)
		if msg := checkTwoWay(sc, c); msg != "" {
			t.Fatal(msg)
		}
	})
}

// FuzzOneWay is FuzzTwoWay for push and pull, with and without --delete.
func FuzzOneWay(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte("ferry push --delete"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		c := &byteChooser{b: data}
		sc := newScenario(c)
		dir := Push
		if mode&1 != 0 {
			dir = Pull
		}
		if msg := checkOneWay(sc, dir, mode&2 != 0, c); msg != "" {
			t.Fatal(msg)
		}
	})
}
