package pebblestore

import (
	"context"

	"github.com/ampbraze/ampbraze/diff"
)

// OpenEngine opens the store in dir with storeOpts (see Open) and returns
// a diff.Engine on it, configured by engineOpts: the one call a program
// needs for the embedded default. The engine owns the store: Engine.Close
// closes it. If the engine cannot be created (diff.ErrUnsupportedVersion,
// a failure reading the store), the store is closed again. With ReadOnly
// the engine writes nothing.
//
// It is the same as
//
//	s, err := pebblestore.Open(ctx, dir, storeOpts...)
//	...
//	e, err := diff.NewEngine(ctx, s, engineOpts...)
//	if err != nil { s.Close() }
func OpenEngine(ctx context.Context, dir string, storeOpts []Option, engineOpts ...diff.Option) (*diff.Engine, error) {
	s, err := Open(ctx, dir, storeOpts...)
	if err != nil {
		return nil, err
	}
	e, err := diff.NewEngine(ctx, s, engineOpts...)
	if err != nil {
		s.Close()
		return nil, err
	}
	return e, nil
}
