package objstore

import (
	"iter"
	"strings"
)

// keySet is a set of object keys stored by directory, so that the long
// directory part of a key (about 150 bytes for a Currents key) is held
// once, and a file name that repeats a segment of its directory (as
// Currents names repeat their dataexport.* topic) is held without it.
//
// Any key can be stored, including the empty key and keys holding NUL
// bytes: the encodings below cannot collide with a plain name.
type keySet struct {
	dirs map[string]*dirKeys // by directory with its trailing "/"; "" for keys without one
	n    int
}

type dirKeys struct {
	// topic is the segment of the directory that names start with,
	// followed by "+", chosen from the first name stored in it; "" when
	// that name repeats no segment.
	topic string
	names map[string]struct{} // encoded names
}

// nameMark starts every encoded name that is not the plain name: a name
// whose topic was removed ("\x00+..."), or a name that itself starts with
// a NUL byte ("\x00\x00..."). The byte after it tells the two apart.
const nameMark = '\x00'

// splitKey splits key after its last "/": "a/b/c" gives "a/b/" and "c",
// "/c" gives "/" and "c", and "c" gives "" and "c".
func splitKey(key string) (dir, name string) {
	i := strings.LastIndexByte(key, '/') + 1
	return key[:i], key[i:]
}

// topicOf returns the longest segment of dir that name starts with,
// followed by "+", or "".
func topicOf(dir, name string) string {
	var topic string
	for seg := range strings.SplitSeq(strings.TrimSuffix(dir, "/"), "/") {
		if len(seg) > len(topic) && len(name) > len(seg) && name[len(seg)] == '+' && strings.HasPrefix(name, seg) {
			topic = seg
		}
	}
	return topic
}

func (d *dirKeys) encode(name string) string {
	if d.topic != "" && len(name) > len(d.topic) && name[len(d.topic)] == '+' && strings.HasPrefix(name, d.topic) {
		return string(nameMark) + name[len(d.topic):]
	}
	if name != "" && name[0] == nameMark {
		return string(nameMark) + name
	}
	return name
}

func (d *dirKeys) decode(enc string) string {
	if enc == "" || enc[0] != nameMark {
		return enc
	}
	if len(enc) > 1 && enc[1] == nameMark {
		return enc[1:]
	}
	return d.topic + enc[1:]
}

// add inserts key, reporting whether it was new. The stored strings are
// copies, so key's memory is not kept alive.
func (s *keySet) add(key string) bool {
	dir, name := splitKey(key)
	d := s.dirs[dir]
	if d == nil {
		d = &dirKeys{names: make(map[string]struct{}), topic: strings.Clone(topicOf(dir, name))}
		s.dirs[strings.Clone(dir)] = d
	}
	enc := d.encode(name)
	if _, ok := d.names[enc]; ok {
		return false
	}
	d.names[strings.Clone(enc)] = struct{}{}
	s.n++
	return true
}

func (s *keySet) has(key string) bool {
	dir, name := splitKey(key)
	d := s.dirs[dir]
	if d == nil {
		return false
	}
	_, ok := d.names[d.encode(name)]
	return ok
}

func (s *keySet) remove(key string) bool {
	dir, name := splitKey(key)
	d := s.dirs[dir]
	if d == nil {
		return false
	}
	enc := d.encode(name)
	if _, ok := d.names[enc]; !ok {
		return false
	}
	delete(d.names, enc)
	s.n--
	if len(d.names) == 0 {
		delete(s.dirs, dir)
	}
	return true
}

// all yields every key, in no particular order.
func (s *keySet) all() iter.Seq[string] {
	return func(yield func(string) bool) {
		for dir, d := range s.dirs {
			for enc := range d.names {
				if !yield(dir + d.decode(enc)) {
					return
				}
			}
		}
	}
}

// removeDirs removes every key in the directories (with their trailing
// "/"; "" for keys without one) for which drop returns true, and returns
// how many keys it removed.
func (s *keySet) removeDirs(drop func(dir string) bool) int {
	removed := 0
	for dir, d := range s.dirs {
		if drop(dir) {
			removed += len(d.names)
			delete(s.dirs, dir)
		}
	}
	s.n -= removed
	return removed
}
