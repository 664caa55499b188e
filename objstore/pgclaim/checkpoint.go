package pgclaim

import (
	"context"
	"crypto/sha256"
	"sync"
)

// Checkpoint is Claims seen as the checkpoint a reader of a bucket
// consults before each object (currents.Checkpoint, objstore's
// checkpoints): Done claims the key, and reports it not done only to the
// worker that got the claim, so each worker reads only its share. It is
// safe for concurrent use.
//
// It keeps in memory a 16-byte digest of each key found done (Load, and
// its own MarkDone), so that listing a bucket of finished objects costs no
// round trip per object: about 50 bytes of heap per done key. Any other
// key costs one claim statement.
type Checkpoint struct {
	c *Claims

	mu       sync.Mutex
	done     map[[16]byte]struct{}
	declined []string
}

// Checkpoint returns a Checkpoint over c with the keys done so far loaded.
func (c *Claims) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	p := &Checkpoint{c: c}
	if err := p.Load(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func digest(key string) [16]byte {
	s := sha256.Sum256([]byte(key))
	return [16]byte(s[:16])
}

// Load reloads the keys done, by every worker, from the table.
func (p *Checkpoint) Load(ctx context.Context) error {
	done := make(map[[16]byte]struct{})
	for k, err := range p.c.DoneKeys(ctx) {
		if err != nil {
			return err
		}
		done[digest(k)] = struct{}{}
	}
	p.mu.Lock()
	p.done = done
	p.mu.Unlock()
	return nil
}

// Done reports whether key needs no work from this worker: it is done,
// or another worker holds it, or this worker already held it. It reports
// false exactly when it claimed the key now: the caller then processes
// it, and commits it (Claims.Commit, MarkDone) or releases it. The keys it
// could not claim and did not know as done are remembered for Declined.
func (p *Checkpoint) Done(ctx context.Context, key string) (bool, error) {
	d := digest(key)
	p.mu.Lock()
	_, done := p.done[d]
	p.mu.Unlock()
	if done {
		return true, nil
	}
	got, err := p.c.Claim(ctx, key)
	if err != nil {
		return false, err
	}
	if len(got) == 1 {
		return false, nil
	}
	p.mu.Lock()
	p.declined = append(p.declined, key)
	p.mu.Unlock()
	return true, nil
}

// MarkDone commits key alone (Claims.Commit with no batch name).
func (p *Checkpoint) MarkDone(ctx context.Context, key string) error {
	if err := p.c.Commit(ctx, "", []string{key}, nil); err != nil {
		return err
	}
	p.Remember(key)
	return nil
}

// Remember records keys as done in memory only, after the caller
// committed them itself (Claims.Commit), so that the next listing does
// not ask the database about them.
func (p *Checkpoint) Remember(keys ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		p.done[digest(k)] = struct{}{}
	}
}

// Declined returns the keys Done could not claim since the last call (done
// by a worker after Load, or held by another worker) and forgets them. A
// worker that must see every key finished waits on them with
// Claims.Status.
func (p *Checkpoint) Declined() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.declined
	p.declined = nil
	return d
}
