// Command gen writes a family catalog's prose_gen.go from its steps.toml:
// the prose as catalog.LoadProse reads and checks it, as a Go value, so
// that the command does not parse TOML when it starts. Each family's
// catalog.go runs it with
//
//	//go:generate go run ../gen
//
// and `go generate ./internal/catalog/...` regenerates every family. It
// reads steps.toml and writes prose_gen.go in the current directory, in
// the package go generate names ($GOPACKAGE).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/commission-tool/commission/internal/catalog"
)

func main() {
	in := flag.String("in", "steps.toml", "the family's prose")
	out := flag.String("out", "prose_gen.go", "the Go file to write")
	pkg := flag.String("pkg", os.Getenv("GOPACKAGE"), "the Go package of the file")
	name := flag.String("var", "stepsProse", "the variable that holds the prose")
	flag.Parse()
	if err := run(*in, *out, *pkg, *name); err != nil {
		fmt.Fprintln(os.Stderr, "catalog/gen:", err)
		os.Exit(1)
	}
}

func run(in, out, pkg, name string) error {
	if pkg == "" {
		return errors.New("no package: run it from go generate or pass -pkg")
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	p, err := catalog.LoadProse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	src, err := catalog.GoSource(pkg, name, p)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
