// Package s3source is under construction.
package s3source
