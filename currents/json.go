package currents

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/ampbraze/ampbraze/internal/jsonenc"
)

// appendJSONString appends s as a JSON string, escaping like encoding/json
// (including <, > and &) and replacing invalid UTF-8 with U+FFFD.
func appendJSONString(buf []byte, s string) []byte { return jsonenc.AppendString(buf, s, true) }

func appendInt(buf []byte, v int64) []byte { return strconv.AppendInt(buf, v, 10) }

func appendBool(buf []byte, v bool) []byte { return strconv.AppendBool(buf, v) }

// appendFloat formats like encoding/json; an Avro float is printed with
// float32 precision (3.14, not 3.140000104904175). NaN and infinities,
// which JSON cannot hold, become the strings "NaN", "Infinity" and
// "-Infinity" as in Avro's JSON encoding.
func appendFloat(buf []byte, v float64, is32 bool) []byte {
	switch {
	case math.IsNaN(v):
		return append(buf, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(buf, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(buf, `"-Infinity"`...)
	}
	bits := 64
	if is32 {
		bits = 32
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	buf = strconv.AppendFloat(buf, v, format, -1, bits)
	if format == 'e' {
		// Like encoding/json: 1e-07 becomes 1e-7.
		if n := len(buf); n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf
}

// appendJSONValue appends a generic decoded value.
func appendJSONValue(buf []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("currents: JSON view: %w", errTooDeep)
	}
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case string:
		return appendJSONString(buf, x), nil
	case int64:
		return appendInt(buf, x), nil
	case float32:
		return appendFloat(buf, float64(x), true), nil
	case float64:
		return appendFloat(buf, x, false), nil
	case bool:
		return appendBool(buf, x), nil
	case []byte:
		// Avro's JSON encoding maps each byte to the code point of the same value.
		r := make([]rune, len(x))
		for i, c := range x {
			r[i] = rune(c)
		}
		return appendJSONString(buf, string(r)), nil
	case []string:
		buf = append(buf, '[')
		for i, s := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, s)
		}
		return append(buf, ']'), nil
	case []any:
		buf = append(buf, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendJSONValue(buf, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf = append(buf, '{')
		var err error
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			if buf, err = appendJSONValue(buf, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(buf, b...), nil
}

// DecodeJSONField unmarshals a field that Braze delivers as JSON text
// inside a string (properties, message_extras, custom_attributes,
// tool_arguments, flow_response_json, ...) into v. An empty string, which
// is how a null or absent field reads, leaves v unchanged and returns nil.
func DecodeJSONField(raw string, v any) error {
	if raw == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fmt.Errorf("currents: field holds invalid JSON: %w", err)
	}
	return nil
}

// JSONObject parses a JSON-in-string field into a map. It returns nil for
// an empty string.
func JSONObject(raw string) (map[string]any, error) {
	var m map[string]any
	err := DecodeJSONField(raw, &m)
	return m, err
}
