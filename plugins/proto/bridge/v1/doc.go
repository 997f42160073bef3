// Package bridgev1 is the Go code generated from bridge.proto, the avshub
// bridge protocol v1 (package avshub.bridge.v1). Regenerate it with
// `make proto`; convert it to and from the discovery model with the convert
// subpackage.
package bridgev1
