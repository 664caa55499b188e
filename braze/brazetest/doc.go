// Package brazetest is under construction.
package brazetest
