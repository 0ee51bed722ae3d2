package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// nonJSON turns the kit's stand-ins for values JSON cannot carry into Go values
// (spec/adapter-protocol.md § Values JSON cannot carry).
var nonJSON = map[string]func() any{
	"nan":               func() any { return math.NaN() },
	"infinity":          func() any { return math.Inf(1) },
	"negative-infinity": func() any { return math.Inf(-1) },
	"bytes":             func() any { return []byte{0, 255, 'b', 'i', 'n'} },
	"integer-key":       func() any { return map[int]string{1: "a map whose key is not a string"} },
	// "a", U+D800, "b" as the bytes a generalised UTF-8 encoder writes: a Go string that is
	// not valid UTF-8, which is how a Go program meets a lone surrogate.
	"lone-surrogate": func() any { return "a\xed\xa0\x80b" },
}

// materialize replaces every {"$nonjson": kind} with its Go value and unwraps {"$literal": object}.
func materialize(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = materialize(x[i])
		}
		return x
	case map[string]any:
		if len(x) == 1 {
			if kind, ok := x["$nonjson"].(string); ok && nonJSON[kind] != nil {
				return nonJSON[kind]()
			}
			if inner, ok := x["$literal"].(map[string]any); ok {
				x = inner
			}
		}
		for k, e := range x {
			x[k] = materialize(e)
		}
		return x
	}
	return v
}

// writtenAsInteger: a number written without a fraction or an exponent (2, not 2.0 or 2e0).
func writtenAsInteger(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

// describe is a short description of any value for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []byte:
		return "binary data"
	case map[int]string:
		return "a map with an integer key"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		if !utf8.ValidString(x) {
			return "a string that is not valid UTF-8"
		}
	}
	text, err := encode(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	if len(text) > 60 {
		return string(text[:57]) + "..."
	}
	return string(text)
}

// checkJSON: v is plain JSON this adapter can store exactly; where names it in the message.
func checkJSON(v any, where string) error {
	switch x := v.(type) {
	case nil, bool, json.Number:
		return nil
	case string:
		if !utf8.ValidString(x) {
			return fail("invalid_argument", "%s holds a string that is not valid UTF-8 (a lone surrogate)", where)
		}
		return nil
	case float64:
		return fail("invalid_argument", "%s holds %s, which JSON cannot express", where, describe(x))
	case []any:
		for i, e := range x {
			if err := checkJSON(e, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for k, e := range x {
			if err := checkJSON(e, where+"."+k); err != nil {
				return err
			}
		}
		return nil
	}
	return fail("invalid_argument", "%s holds %s, which is not a JSON value", where, describe(v))
}

// deepCopy copies a checked JSON value: what the store keeps shares nothing with its caller.
func deepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	}
	return v
}

// encode writes v as JSON. json.Number keeps the digits it was read with, so big integers
// and -0.0 come back as they were sent; SetEscapeHTML(false) keeps <, > and & as they are.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// decode reads JSON text keeping every number's digits.
func decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}
