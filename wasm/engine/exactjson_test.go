package engine

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzObjectMembers checks the member splitter against encoding/json: what
// it accepts, encoding/json reads as the same members; what encoding/json
// reads as an object without repeated names, it accepts.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}], "\u0061x": "q\"uo\\te" } `, `{"a":1,"a":2}`,
		`{"a":{"b":{"c":[]}},"d":null,"e":true,"f":-1.5e3}`, `[1]`, `{"a":1}x`, `{"a":"\ud800"}`, "{\"\xff\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := objectMembers(data)
		var want map[string]json.RawMessage
		jerr := json.Unmarshal(data, &want)
		if err != nil {
			if _, dup := err.(*duplicateError); jerr == nil && !dup && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
				t.Fatalf("refused %q, which encoding/json reads: %v", data, err)
			}
			return
		}
		if jerr != nil || len(m) != len(want) {
			t.Fatalf("%q: %d members, encoding/json %d (%v)", data, len(m), len(want), jerr)
		}
		for k, v := range want {
			var a, b bytes.Buffer
			_ = json.Compact(&a, v)
			_ = json.Compact(&b, m[k])
			if a.String() != b.String() {
				t.Fatalf("%q: member %q is %s, encoding/json %s", data, k, b.String(), a.String())
			}
		}
	})
}
