// Package cputime reads the CPU time the process has used, which the
// benchmarks report beside wall time: on a shared, loaded machine it is
// the steadier measure, since waiting for a core is not counted.
package cputime
