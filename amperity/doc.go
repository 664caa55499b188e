// Package amperity is under construction.
package amperity
