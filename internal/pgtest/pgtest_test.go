package pgtest

import (
	"errors"
	"strings"
	"testing"
)

func TestVerdict(t *testing.T) {
	err := errors.New("connection refused")
	fail, msg := Verdict("postgres://u:secret@h:5433/db", err, "")
	if fail || !strings.Contains(msg, "skipping") || !strings.Contains(msg, "u@h:5433/db") || !strings.Contains(msg, URLEnv) || strings.Contains(msg, "secret") {
		t.Errorf("without CI: fail %v, %q", fail, msg)
	}
	fail, msg = Verdict("postgres://u:secret@h/db", err, "true")
	if !fail || !strings.Contains(msg, "CI is set") || strings.Contains(msg, "secret") {
		t.Errorf("with CI: fail %v, %q", fail, msg)
	}
}

func TestSchemaIsUniqueAndDropped(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		name = Schema(t, "pgtest_")
		if !strings.HasPrefix(name, "pgtest_testschemaisuniqueanddropped_inner_") || len(name) > 63 {
			t.Errorf("schema %q", name)
		}
		Exec(t, "CREATE SCHEMA "+name)
	})
	if name == "" { // skipped: no PostgreSQL
		return
	}
	Exec(t, "CREATE SCHEMA "+name) // fails if the cleanup did not drop it
	Exec(t, "DROP SCHEMA "+name)
}
