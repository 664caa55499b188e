package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strings"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/pebblestore"
	"github.com/ampbraze/ampbraze/diff/pgstore"
)

// isStateURL reports whether -state names a PostgreSQL database rather
// than a directory.
func isStateURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// openState opens the delta state: the embedded store in a directory (read
// only for a dry run), or PostgreSQL.
func openState(ctx context.Context, c *config, log *slog.Logger) (*diff.Engine, error) {
	if isStateURL(c.statePath) {
		opts := []pgstore.Option{pgstore.WithLogger(log)}
		if c.dryRun {
			opts = append(opts, pgstore.ReadOnly()) // a dry run creates no table and writes no row
		}
		st, err := pgstore.Open(ctx, c.statePath, opts...)
		if err != nil {
			return nil, err
		}
		eng, err := diff.NewEngine(ctx, st, diff.WithLogger(log))
		if err != nil {
			st.Close()
			return nil, err
		}
		return eng, nil
	}
	opts := []pebblestore.Option{pebblestore.WithLogger(log)}
	if c.dryRun {
		opts = append(opts, pebblestore.ReadOnly()) // a dry run changes no file
	}
	if c.resetState {
		opts = append(opts, pebblestore.WithResetState())
	}
	return pebblestore.OpenEngine(ctx, c.statePath, opts, diff.WithLogger(log))
}

// redactURL hides the password of a URL, for messages.
func redactURL(s string) string {
	if !isStateURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// keyDigest names an API key without revealing it: the first 16 hex
// digits of its SHA-256.
func keyDigest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}
