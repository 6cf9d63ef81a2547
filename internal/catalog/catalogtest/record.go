// Package catalogtest holds what every family catalog's tests share: a
// session's signed record written and verified as the wizard does it.
package catalogtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/keys"
	"github.com/commission-tool/commission/internal/steps"
)

// RecordSession writes the session's signed record bundle, as the wizard
// does for every family, verifies it against the family's catalog, and
// checks that none of the given secrets reached any file of the bundle.
func RecordSession[S any](t testing.TB, cat steps.Catalog[S], s *steps.Session[S], secrets ...string) {
	t.Helper()
	metas := cat.Metas()
	now := time.Now().UTC()
	rec := record.Build(record.Meta{Tool: record.Tool{Name: "commission", Version: "test"}, Mode: record.ModeWizard,
		Device: s.Identity(), Guide: cat.Guide, Technician: record.Technician{Name: "Ada", Email: "ada@plant.example"},
		Site: "Plant 3", Started: now.Add(-time.Hour), Finished: now}, s.Results(), metas)
	if errs := record.Check(rec, metas); len(errs) > 0 {
		t.Fatalf("record check: %v", errs)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if err := keys.CreateEd25519(key, "ada@plant.example", nil); err != nil {
		t.Fatal(err)
	}
	sg, err := keys.FromFile(key, keys.Options{NoAgent: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := bundle.Write(filepath.Join(dir, "records"), bundle.Input{Record: rec, Signer: sg, Identity: "ada@plant.example"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bundle.Verify(out, bundle.WithCatalog(metas))
	if err != nil || !rep.OK() || !rep.CatalogChecked {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	files := 0
	err = filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, sec := range secrets {
			if strings.Contains(string(b), sec) {
				t.Errorf("%s contains a secret", p)
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("reading the bundle back: %v (%d files)", err, files)
	}
}
