package catalog

import (
	"crypto/sha512"
	"encoding/hex"
	"os"
	"testing"

	"github.com/commission-tool/commission/internal/catalog/catalogtest"
	"github.com/commission-tool/commission/internal/steps"
)

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sha512hex(s string) string {
	h := sha512.Sum512([]byte(s))
	return hex.EncodeToString(h[:])
}

// recordSession writes, verifies and searches the session's signed
// record (catalogtest.RecordSession).
func recordSession[S any](t *testing.T, cat steps.Catalog[S], s *steps.Session[S], secrets ...string) {
	t.Helper()
	catalogtest.RecordSession(t, cat, s, secrets...)
}
