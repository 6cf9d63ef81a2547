package nport

import (
	_ "embed"
	"testing"

	"github.com/commission-tool/commission/internal/catalog/catalogtest"
)

// proseTOML is steps.toml, for the tests that read the words as people
// edit them (the command uses prose_gen.go).
//
//go:embed steps.toml
var proseTOML []byte

// TestProseIsGenerated: prose_gen.go is steps.toml as catalog.LoadProse
// reads and checks it.
func TestProseIsGenerated(t *testing.T) {
	catalogtest.ProseIsGenerated(t, proseTOML, stepsProse)
}
