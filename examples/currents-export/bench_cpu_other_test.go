//go:build !unix

package main

import "time"

// processCPU is not measured here: the CPU ratio is not reported.
func processCPU() time.Duration { return 0 }
