// Package currents decodes Braze Currents Avro files.
package currents
