package currents

// The event structs are generated from Braze's writer schemas, which live
// outside the repository (../shared/currents/schemas relative to the
// repository root) because Braze does not allow redistributing them.
//go:generate go run ./internal/gen -schemas ../../shared/currents/schemas -out events_gen.go
