// Package examples ships the example files of this folder inside the binary.
package examples

import _ "embed"

// DemoWorld is the world file `gatehouse serve --demo` loads.
//
//go:embed demo-world.yaml
var DemoWorld []byte
