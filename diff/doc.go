// Package diff is under construction.
package diff
