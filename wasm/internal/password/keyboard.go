package password

import (
	"strings"
	"sync"
)

// keyboard is an adjacency graph of keys: for each character, the keys
// around it, each as a string of its unshifted and shifted character.
type keyboard struct {
	adj       map[rune][]string // indexed by direction; "" where no key
	starts    float64           // number of keys
	avgDegree float64           // average number of neighbours
	shifted   string            // characters typed with shift
}

// The qwerty layout, one row per line, each key as its unshifted and
// shifted character. Rows after the first start half a key further right
// (column 1), so the keyboard is slanted.
const qwertyLayout = "`~ 1! 2@ 3# 4$ 5% 6^ 7& 8* 9( 0) -_ =+\n" +
	"qQ wW eE rR tT yY uU iI oO pP [{ ]} \\|\n" +
	"aA sS dD fF gG hH jJ kK lL ;: '\"\n" +
	"zZ xX cC vV bB nN mM ,< .> /?"

// The numeric keypad; keys are aligned in a grid.
const keypadLayout = "  / * -\n" +
	"7 8 9 +\n" +
	"4 5 6\n" +
	"1 2 3\n" +
	"  0 ."

// loadKeyboards builds both graphs once per process; they are never
// modified afterwards.
var loadKeyboards = sync.OnceValue(func() [2]*keyboard {
	return [2]*keyboard{buildKeyboard(qwertyLayout, true), buildKeyboard(keypadLayout, false)}
})

func buildKeyboard(layout string, slanted bool) *keyboard {
	type pos struct{ x, y int }
	keys := map[pos]string{}
	for y, line := range strings.Split(layout, "\n") {
		col := 0
		if slanted && y > 0 {
			col = 1
		}
		// Columns are two characters wide in the keypad layout text, one
		// token per key in the qwerty layout.
		if slanted {
			for _, k := range strings.Fields(line) {
				keys[pos{2*col + y, y}] = k
				col++
			}
			continue
		}
		for i := 0; i < len(line); i += 2 {
			if line[i] != ' ' {
				keys[pos{i / 2, y}] = line[i : i+1]
			}
		}
	}
	var dirs []pos
	if slanted {
		dirs = []pos{{-2, 0}, {-1, -1}, {1, -1}, {2, 0}, {1, 1}, {-1, 1}}
	} else {
		dirs = []pos{{-1, 0}, {-1, -1}, {0, -1}, {1, -1}, {1, 0}, {1, 1}, {0, 1}, {-1, 1}}
	}
	k := &keyboard{adj: map[rune][]string{}}
	var shifted strings.Builder
	degrees := 0
	for p, key := range keys {
		adj := make([]string, len(dirs))
		for d, dir := range dirs {
			if n, ok := keys[pos{p.x + dir.x, p.y + dir.y}]; ok {
				adj[d] = n
				degrees++
			}
		}
		for i, r := range key {
			k.adj[r] = adj
			if i > 0 {
				shifted.WriteRune(r)
			}
		}
	}
	k.starts = float64(len(k.adj))
	k.avgDegree = float64(degrees) / float64(len(keys))
	k.shifted = shifted.String()
	return k
}
