// Package brazetest is a fake Braze for tests: an in-process HTTP server
// that answers POST /users/track the way Braze documents it, keeps the user
// profiles, events and purchases it was sent, and can inject the failures a
// client must survive.
package brazetest
