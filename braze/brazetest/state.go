package brazetest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Alias is a user alias: a name unique within its label.
type Alias struct {
	Name  string `json:"alias_name"`
	Label string `json:"alias_label"`
}

// profile is one user profile in the fake's memory.
type profile struct {
	brazeID    string
	externalID string
	aliases    []Alias
	attrs      map[string]any
	created    time.Time
	updated    time.Time
	touch      uint64 // state tick of the last update: orders "most recently updated"
	events     int
	purchases  int
}

// state is the fake's user database. All access holds Server.mu.
type state struct {
	arrayMax  int
	profiles  []*profile
	byExt     map[string]*profile
	byBraze   map[string]*profile
	byAlias   map[Alias]*profile
	byEmail   map[string][]*profile
	byPhone   map[string][]*profile
	byToken   map[string]*profile
	events    []Event
	purchases []Purchase
	tick      uint64
	names     map[string]string // interned attribute names
}

func newState(arrayMax int) *state {
	return &state{
		arrayMax: arrayMax,
		byExt:    map[string]*profile{},
		byBraze:  map[string]*profile{},
		byAlias:  map[Alias]*profile{},
		byEmail:  map[string][]*profile{},
		byPhone:  map[string][]*profile{},
		byToken:  map[string]*profile{},
		names:    map[string]string{},
	}
}

// intern returns a canonical copy of an attribute name so that profile maps
// never keep request bodies alive.
func (st *state) intern(s string) string {
	if c, ok := st.names[s]; ok {
		return c
	}
	c := strings.Clone(s)
	st.names[c] = c
	return c
}

func (st *state) newProfile(now time.Time) *profile {
	st.tick++
	p := &profile{
		brazeID: fmt.Sprintf("%024x", len(st.profiles)+1),
		attrs:   map[string]any{},
		created: now,
	}
	st.profiles = append(st.profiles, p)
	st.byBraze[p.brazeID] = p
	return p
}

func (st *state) touch(p *profile, now time.Time) {
	st.tick++
	p.touch = st.tick
	p.updated = now
}

// resolve finds the profile an object targets, creating it when Braze would.
// It returns nil when the object updates nothing (update-only and unknown).
func (st *state) resolve(id identity, obj *jv, now time.Time) *profile {
	switch id.kind {
	case idExternal:
		if p := st.byExt[id.value]; p != nil {
			return p
		}
		if id.updateOnly {
			return nil
		}
		p := st.newProfile(now)
		p.externalID = strings.Clone(id.value)
		st.byExt[p.externalID] = p
		return p
	case idBraze:
		return st.byBraze[id.value]
	case idAlias:
		if p := st.byAlias[id.alias]; p != nil {
			return p
		}
		if id.updateOnly {
			return nil
		}
		p := st.newProfile(now)
		a := Alias{Name: strings.Clone(id.alias.Name), Label: strings.Clone(id.alias.Label)}
		p.aliases = append(p.aliases, a)
		st.byAlias[a] = p
		return p
	case idEmail, idPhone:
		index, field := st.byEmail, "email"
		if id.kind == idPhone {
			index, field = st.byPhone, "phone"
		}
		if p := mostRecent(index[id.value]); p != nil {
			return p
		}
		if id.updateOnly {
			return nil
		}
		p := st.newProfile(now)
		st.setAttr(p, field, strings.Clone(id.value))
		return p
	case idPushImport:
		// A token already known makes the object a no-op; otherwise Braze
		// creates an anonymous profile holding the token.
		toks, _ := obj.get("push_tokens")
		for i := range toks.o {
			if t, ok := toks.o[i].val.get("token"); ok && st.byToken[t.s] != nil {
				return nil
			}
		}
		return st.newProfile(now)
	}
	return nil
}

// mostRecent picks, among profiles sharing an email or phone, the most
// recently updated one that has an external_id, else the most recently
// updated one.
func mostRecent(ps []*profile) *profile {
	var best, bestExt *profile
	for _, p := range ps {
		if best == nil || p.touch > best.touch {
			best = p
		}
		if p.externalID != "" && (bestExt == nil || p.touch > bestExt.touch) {
			bestExt = p
		}
	}
	if bestExt != nil {
		return bestExt
	}
	return best
}

// setAttr sets or (with nil) removes an attribute, keeping the email, phone
// and push token indexes in step.
func (st *state) setAttr(p *profile, name string, v any) {
	switch name {
	case "email", "phone":
		index := st.byEmail
		if name == "phone" {
			index = st.byPhone
		}
		if old, ok := p.attrs[name].(string); ok {
			index[old] = slices.DeleteFunc(index[old], func(q *profile) bool { return q == p })
			if len(index[old]) == 0 {
				delete(index, old)
			}
		}
		if s, ok := v.(string); ok {
			index[s] = append(index[s], p)
		}
	case "push_tokens":
		if arr, ok := v.([]any); ok {
			for _, t := range arr {
				if m, ok := t.(map[string]any); ok {
					if tok, ok := m["token"].(string); ok {
						st.byToken[tok] = p
					}
				}
			}
		}
	}
	if v == nil {
		delete(p.attrs, name)
		return
	}
	p.attrs[st.intern(name)] = v
}

// applyAttributes applies one validated attributes object to a profile.
// verdicts holds validation's verdict for each member of obj, in order;
// dropNested reports whether an attribute's nested updates are dropped.
func (st *state) applyAttributes(p *profile, obj *jv, verdicts []verdict, dropNested func(string) bool) {
	merge := false
	if m, ok := obj.get("_merge_objects"); ok && m.k == kBool {
		merge = m.b
	}
	for i := range obj.o {
		key, val := obj.o[i].key, &obj.o[i].val
		switch verdicts[i] {
		case attrControlKey, attrIgnore, attrNestedBad:
			continue
		case attrStoreNull:
			st.setAttr(p, key, nil)
			continue
		}
		if isNestedValue(val) && dropNested(key) {
			continue
		}
		switch key {
		case "country":
			if val.k == kString {
				st.setAttr(p, key, strings.ToUpper(val.s))
				continue
			}
		case "email", "phone":
			if val.k == kString && val.s == p.attrs[key] {
				continue // identifying by email sets it to itself
			}
		}
		st.applyValue(p, key, val, merge)
	}
}

// applyValue applies one custom or standard attribute value.
func (st *state) applyValue(p *profile, key string, val *jv, merge bool) {
	switch val.k {
	case kNull:
		st.setAttr(p, key, nil)
	case kArray:
		if (len(val.o) == 0 || val.o[0].val.k == kString) && st.sameStrings(p.attrs[key], val) {
			return
		}
		st.setAttr(p, key, st.arrayValue(val))
	case kObject:
		switch classifyObject(val) {
		case opInc:
			n, _ := val.get("inc")
			by, ok := numberValue(n.s).(int64)
			if !ok {
				return
			}
			switch cur := p.attrs[key].(type) {
			case nil:
				st.setAttr(p, key, by)
			case int64:
				st.setAttr(p, key, cur+by)
			}
			// inc on a non-integer attribute changes nothing.
		case opArray:
			cur, _ := p.attrs[key].([]string)
			cur = slices.Clone(cur)
			if add, ok := val.get("add"); ok {
				for i := range add.o {
					s := add.o[i].val.s
					// An element already present moves to the end.
					cur = slices.DeleteFunc(cur, func(x string) bool { return x == s })
					cur = append(cur, strings.Clone(s))
				}
				if st.arrayMax > 0 && len(cur) > st.arrayMax {
					cur = cur[len(cur)-st.arrayMax:] // appending to a full array drops the oldest
				}
			}
			if rm, ok := val.get("remove"); ok {
				for i := range rm.o {
					s := rm.o[i].val.s
					cur = slices.DeleteFunc(cur, func(x string) bool { return x == s })
				}
			}
			st.setAttr(p, key, cur)
		case opObjArray:
			st.applyObjectArray(p, key, val, merge)
		case opTimeValue:
			t, _ := val.get("$time")
			st.setAttr(p, key, strings.Clone(t.s))
		case opNested:
			nv := val.toAny().(map[string]any)
			if old, ok := p.attrs[key].(map[string]any); ok && merge {
				nv = deepMerge(cloneMap(old), nv)
			}
			st.setAttr(p, key, nv)
		}
	default:
		if sameAsStored(p.attrs[key], val) {
			return // unchanged: skip the copy and the map write
		}
		st.setAttr(p, key, val.toAny())
	}
}

// sameAsStored reports whether a scalar JSON value equals the stored value.
func sameAsStored(cur any, val *jv) bool {
	switch c := cur.(type) {
	case string:
		return val.k == kString && c == val.s
	case bool:
		return val.k == kBool && c == val.b
	case int64:
		return val.k == kNumber && isIntLiteral(val.s) && strconv.FormatInt(c, 10) == val.s
	case float64:
		if val.k != kNumber || isIntLiteral(val.s) {
			return false
		}
		f, err := strconv.ParseFloat(val.s, 64)
		return err == nil && f == c
	}
	return false
}

// sameStrings reports whether a JSON string array, de-duplicated and
// truncated as arrayValue would, equals the stored []string.
func (st *state) sameStrings(cur any, val *jv) bool {
	c, ok := cur.([]string)
	if !ok || len(val.o) < len(c) {
		return false
	}
	n := 0
	for i := range val.o {
		s := val.o[i].val.s
		if slices.Contains(c[:n], s) {
			continue
		}
		if n == len(c) {
			return false
		}
		if c[n] != s {
			return false
		}
		n++
		if st.arrayMax > 0 && n == st.arrayMax {
			break
		}
	}
	return n == len(c)
}

// arrayValue converts a JSON array: strings become a de-duplicated []string
// truncated to the array maximum; arrays of objects become []any of maps.
func (st *state) arrayValue(val *jv) any {
	if len(val.o) > 0 && val.o[0].val.k == kObject {
		return val.toAny()
	}
	out := make([]string, 0, len(val.o))
	for i := range val.o {
		s := val.o[i].val.s
		if !slices.Contains(out, s) {
			out = append(out, strings.Clone(s))
		}
	}
	if st.arrayMax > 0 && len(out) > st.arrayMax {
		out = out[:st.arrayMax]
	}
	return out
}

// applyObjectArray applies $add, then $remove, then $update, the order
// braze-docs issue #11289 reports.
func (st *state) applyObjectArray(p *profile, key string, val *jv, merge bool) {
	cur, _ := p.attrs[key].([]any)
	cur = slices.Clone(cur)
	for _, op := range [...]string{"$add", "$remove", "$update"} {
		for i := range val.o {
			if val.o[i].key != op {
				continue
			}
			items := &val.o[i].val
			for j := range items.o {
				item := &items.o[j].val
				switch op {
				case "$add":
					cur = append(cur, item.toAny())
				case "$remove":
					k, _ := item.get("$identifier_key")
					want, _ := item.get("$identifier_value")
					w := want.toAny()
					cur = slices.DeleteFunc(cur, func(x any) bool {
						m, ok := x.(map[string]any)
						return ok && sameScalar(m[k.s], w)
					})
				case "$update":
					k, _ := item.get("$identifier_key")
					want, _ := item.get("$identifier_value")
					newObj, _ := item.get("$new_object")
					w := want.toAny()
					for n, x := range cur {
						m, ok := x.(map[string]any)
						if !ok || !sameScalar(m[k.s], w) {
							continue
						}
						nv := newObj.toAny().(map[string]any)
						if merge {
							cur[n] = deepMerge(cloneMap(m), nv)
						} else {
							cur[n] = nv
						}
					}
				}
			}
		}
	}
	st.setAttr(p, key, cur)
}

// sameScalar compares two decoded JSON scalars, numbers by value.
func sameScalar(a, b any) bool {
	af, aNum := toFloat(a)
	bf, bNum := toFloat(b)
	if aNum && bNum {
		return af == bf
	}
	return a == b
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// deepMerge merges src into dst: nested maps merge, everything else
// replaces.
func deepMerge(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

// cloneValue deep-copies a stored value so callers cannot alias state.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	case []string:
		return slices.Clone(x)
	}
	return v
}

// isNestedValue reports whether an attribute value is a nested attribute
// (a nested object, an array of objects or an array-of-objects operation),
// the kind an invalid nested value drops.
func isNestedValue(val *jv) bool {
	switch val.k {
	case kArray:
		return len(val.o) > 0 && val.o[0].val.k == kObject
	case kObject:
		k := classifyObject(val)
		return k == opNested || k == opObjArray
	}
	return false
}
