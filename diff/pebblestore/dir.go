package pebblestore

import (
	"errors"
	"fmt"
	"os"
)

// mkdirState creates the state directory if needed.
func mkdirState(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return storeErr("create the state directory", dir, err)
	}
	return nil
}

// statDir returns the state directory's info, or nil if it does not exist.
func statDir(dir string) (os.FileInfo, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr("open the state directory", dir, err)
	}
	if !fi.IsDir() {
		return nil, storeErr("open the state directory", dir, fmt.Errorf("not a directory"))
	}
	return fi, nil
}
