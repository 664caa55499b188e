package brazetest

// The code lists of codes.go are generated from the module's one pinned
// copy of the ISO lists, as braze's own are.
//go:generate go run ../../amperity/internal/isogen -in ../../amperity/internal/isogen/data/iso-codes.json -kind brazetest -o codes.go
