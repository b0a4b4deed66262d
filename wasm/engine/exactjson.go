package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
func objectMembers(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotObject
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string) // inside an object, Token returns names as strings
		if _, dup := m[name]; dup {
			return nil, &duplicateError{name: clip(name)}
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		m[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailingValues
	}
	return m, nil
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
		for _, f := range reflect.VisibleFields(t) {
			name, ok := jsonName(f)
			if !ok {
				continue
			}
			if r, given := m[name]; given {
				if err := decodeValue(r, v.FieldByIndex(f.Index), name); err != nil {
					return err
				}
			}
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

// jsonName is the member name encoding/json would give f, and false for
// fields it would not decode (unexported, "-", embedded structs, whose
// fields VisibleFields lists on their own).
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
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
