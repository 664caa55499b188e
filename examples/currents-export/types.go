package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/examples/internal/input"
)

// checkTypes sorts the -types list, so that a misspelt type is not a
// silent run over no files. A type with a Go struct
// (currents.KnownEventTypes) or one Braze has announced without a schema
// (currents.AnnouncedEventTypes, decoded generically) is accepted as it
// is. Braze adds types with every monthly release, so another well-formed
// users.* name is returned in unlisted, to be accepted only if the input
// has files of it (findTypes). Anything else is an error that lists the
// known types.
func checkTypes(types []string) (unlisted []string, err error) {
	known := knownTypes()
	var unknown []string
	for _, t := range types {
		switch _, ok := slices.BinarySearch(known, t); {
		case ok:
		case wellFormedType(t):
			unlisted = append(unlisted, t)
		default:
			unknown = append(unknown, strconv.Quote(t))
		}
	}
	if len(unknown) > 0 {
		return nil, unknownTypes(unknown, "")
	}
	return unlisted, nil
}

// findTypes lists the input for files of the types checkTypes could not
// vouch for and refuses those it finds none of. The listing stops as soon
// as every type has a file; it reads only those types' folders when the
// store lists folders (local directories, S3).
func findTypes(ctx context.Context, c *config) error {
	if len(c.unlisted) == 0 {
		return nil
	}
	loc, err := input.Open(ctx, c.input, input.Options{S3Endpoint: c.s3Endpoint})
	if err != nil {
		return err
	}
	defer loc.Close()
	missing := slices.Clone(c.unlisted)
	src := currents.NewSource(loc.Store, loc.Prefix, currents.WithEventTypes(missing...))
	for f, err := range src.Files(ctx) {
		var fe *currents.FileError
		switch {
		case errors.As(err, &fe):
			continue // a corrupt file is the export's to report
		case err != nil:
			return err
		}
		missing = slices.DeleteFunc(missing, func(t string) bool { return t == f.Key.EventType })
		if len(missing) == 0 {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, t := range missing {
		missing[i] = strconv.Quote(t)
	}
	return unknownTypes(missing, c.input)
}

func unknownTypes(quoted []string, input string) error {
	where := ""
	if input != "" {
		where = " (no file of it under " + input + ")"
	}
	return fmt.Errorf("-types: unknown event type %s%s; known types:\n  %s",
		strings.Join(quoted, ", "), where, strings.Join(knownTypes(), "\n  "))
}

func knownTypes() []string {
	known := append(currents.KnownEventTypes(), currents.AnnouncedEventTypes()...)
	slices.Sort(known)
	return known
}

// wellFormedType reports whether t looks like a Currents users.* event
// type: dot-separated names of letters, digits and underscores.
func wellFormedType(t string) bool {
	rest, ok := strings.CutPrefix(t, "users.")
	if !ok {
		return false
	}
	for _, seg := range strings.Split(rest, ".") {
		if seg == "" {
			return false
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
				return false
			}
		}
	}
	return true
}
