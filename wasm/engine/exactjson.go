package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"
)

// Every JSON object the engine reads from outside — a request body, the
// claims and header of a session JWT — is read by exact member name, and
// an object that names a member twice is refused. encoding/json alone
// matches struct fields case-insensitively (with Unicode folding: "ſ" is
// "s") and lets the last duplicate win, so two readers of one document
// could each see something else. See RATIONALE.md, "Why are JSON member
// names matched exactly?".

var (
	errNotObject      = errors.New("engine: not a JSON object")
	errTrailingValues = errors.New("engine: data after the JSON value")
)

// duplicateError reports an object that names a member twice.
type duplicateError struct{ name string }

func (d *duplicateError) Error() string { return fmt.Sprintf("engine: member %q named twice", d.name) }

// objectMembers parses data, which must be exactly one JSON object, into
// its members by exact (unescaped) name. A name given twice is an error.
// Values are slices of data. The document is checked by json.Valid first;
// the split that follows then only has to find where members end.
func objectMembers(data []byte) (map[string]json.RawMessage, error) {
	if !json.Valid(data) {
		return nil, errNotObject
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errNotObject
	}
	m := make(map[string]json.RawMessage)
	i = skipSpace(data, i+1)
	for i < len(data) && data[i] != '}' {
		end := stringEnd(data, i)
		name, err := memberName(data[i:end])
		if err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, &duplicateError{name: clip(name)}
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // the colon
		vEnd := valueEnd(data, i)
		m[name] = json.RawMessage(data[i:vEnd])
		i = skipSpace(data, vEnd)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	if skipSpace(data, i+1) != len(data) {
		return nil, errTrailingValues
	}
	return m, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the JSON value starting at b[i] (valid
// JSON: only strings and brackets need following).
func valueEnd(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch c := b[j]; c {
		case '"':
			j = stringEnd(b, j) - 1
			if depth == 0 {
				return j + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
			if depth < 0 {
				return j
			}
		case ',':
			if depth == 0 {
				return j
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return j
			}
		}
	}
	return len(b)
}

// memberName unescapes a member name; plain names (most) need no decoding.
func memberName(quoted []byte) (string, error) {
	if bytes.IndexByte(quoted, '\\') < 0 && utf8.Valid(quoted) {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", err
	}
	return s, nil
}

// validator is implemented by request types that check their own fields
// once decoded (attributes, for example); decodeExact calls it.
type validator interface {
	validate() error
}

// decodeExact decodes a JSON object into the struct dst points to. It is
// encoding/json with two differences: struct fields match their json tag
// exactly (a member of any other spelling is unknown, hence ignored), and
// an object naming a member twice is refused. Structs nested directly or
// through a pointer are read the same way; other field types (strings,
// numbers, maps, raw messages) go to encoding/json, and types that read
// objects of their own (claimUpdate) use objectMembers themselves.
func decodeExact(data []byte, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("engine: decodeExact needs a non-nil pointer, got %T", dst)
	}
	return decodeValue(data, v.Elem(), "")
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func decodeValue(raw json.RawMessage, v reflect.Value, field string) error {
	t := v.Type()
	plain := !reflect.PointerTo(t).Implements(unmarshalerType)
	switch {
	case t.Kind() == reflect.Struct && plain:
		if isNull(raw) {
			return nil
		}
		m, err := objectMembers(raw)
		if err != nil {
			return fieldError(field, err)
		}
		if err := decodeFields(m, v); err != nil {
			return err
		}
		if val, ok := v.Addr().Interface().(validator); ok {
			return val.validate()
		}
		return nil
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && plain:
		if isNull(raw) {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return decodeValue(raw, v.Elem(), field)
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		return fieldError(field, err)
	}
	return nil
}

// decodeFields decodes the members of m into the fields of the struct v,
// and into the fields of the structs it embeds, as encoding/json promotes
// them.
func decodeFields(m map[string]json.RawMessage, v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := decodeFields(m, v.Field(i)); err != nil {
				return err
			}
			continue
		}
		name, ok := jsonName(f)
		if !ok {
			continue
		}
		if r, given := m[name]; given {
			if err := decodeValue(r, v.Field(i), name); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonName is the member name encoding/json would give f, and false for
// fields it would not decode (unexported, "-", embedded structs, whose
// fields decodeFields reads on their own).
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() || f.Anonymous {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	if i := bytes.IndexByte([]byte(tag), ','); i >= 0 {
		tag = tag[:i]
	}
	if tag == "" {
		return f.Name, true
	}
	return tag, true
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// fieldError turns a decoding failure into the client's error: an API
// error raised by a field's own decoder is kept as it is.
func fieldError(field string, err error) error {
	var ae *apiError
	var dup *duplicateError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &dup):
		return badRequest("The request body names the member %q more than once.", dup.name)
	case field == "":
		return badRequest("The request body must be a JSON object.")
	}
	return badRequest("Field %q has the wrong type.", clip(field))
}

// clip shortens request-derived text for messages and logs, cutting at a
// character boundary.
func clip(s string) string { return clipTo(s, 64) }

// clipTo shortens s to at most max bytes and an ellipsis, cutting at a
// character boundary.
func clipTo(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
