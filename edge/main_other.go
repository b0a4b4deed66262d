//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "edge: this is the Cloudflare Worker; build it with GOOS=js GOARCH=wasm (make build)")
	os.Exit(2)
}
