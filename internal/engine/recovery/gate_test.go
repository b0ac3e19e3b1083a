package recovery

import "testing"

func TestAtOrBelow(t *testing.T) {
	for _, c := range []struct {
		off, floor string
		want       bool
	}{
		{"1796286757573-0", "1796286757576-0", true},  // an earlier millisecond
		{"1796286757576-0", "1796286757576-0", true},  // the floor itself
		{"1796286757576-1", "1796286757576-0", false}, // later in the same millisecond
		{"1796286757580-0", "1796286757576-3", false},
		{"ab12-7", "ab12-9", true}, // a MemoryLog's offsets
		{"ab12-10", "ab12-9", false},
		{"ab12-1", "cd34-9", false}, // another log: not comparable
		{"", "ab12-9", false},
		{"ab12-1", "", false},
		{"junk", "ab12-9", false},
	} {
		if got := atOrBelow(c.off, c.floor); got != c.want {
			t.Errorf("atOrBelow(%q, %q) = %v, want %v", c.off, c.floor, got, c.want)
		}
	}
}
