// Package braze is under construction.
package braze
