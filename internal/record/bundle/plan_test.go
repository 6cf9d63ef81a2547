package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

// TestVerifyHoldsTheRecordToItsPlan signs a record filled from a site
// plan and verifies it with WithPlan: against that plan, another plan, no
// readable plan, and a record that names none.
func TestVerifyHoldsTheRecordToItsPlan(t *testing.T) {
	dir := t.TempDir()
	planPath := filepath.Join(dir, "site.toml")
	plan := []byte("schema = \"commission.plan/v1\"\n")
	if err := os.WriteFile(planPath, plan, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.toml")
	if err := os.WriteFile(other, append(plan, '#', '\n'), 0o644); err != nil {
		t.Fatal(err)
	}

	r := sampleRecord()
	r.Plan = &record.Plan{Name: "site.toml", SHA256: record.PlanDigest(plan)}
	r.Steps[3].Inputs = steps.Values{"location": "plant archive"}
	r.Steps[3].FromPlan = []string{"location"}
	s := newEd25519(t)
	b := write(t, s, r)

	rep := verifyOK(t, b, WithCatalog(catalogOf(r)), WithPlan(planPath))
	if !rep.OK() || !rep.PlanChecked || rep.Plan != planPath || !rep.Rendered {
		t.Fatalf("against its own plan: problems %v, plan checked %v", rep.Problems, rep.PlanChecked)
	}
	rep = verifyOK(t, b, WithCatalog(catalogOf(r)))
	if !rep.OK() || rep.PlanChecked {
		t.Fatalf("without --plan: problems %v, plan checked %v", rep.Problems, rep.PlanChecked)
	}
	rep = verifyOK(t, b, WithCatalog(catalogOf(r)), WithPlan(other))
	if rep.OK() || !hasProblem(rep, RecordFile, "not from "+other) || ExitCode(rep, nil) != ExitFailed {
		t.Fatalf("against another plan: problems %v, exit %d", rep.Problems, ExitCode(rep, nil))
	}
	if _, err := Verify(b, WithPlan(filepath.Join(dir, "missing.toml"))); err == nil || !strings.Contains(err.Error(), "site plan") {
		t.Fatalf("a plan that cannot be read: %v, want an error (exit %d)", err, ExitUsage)
	}
	if _, err := Verify(b, WithPlan(dir)); err == nil {
		t.Fatal("a folder was read as a plan")
	}

	plain := write(t, s, sampleRecord())
	rep = verifyOK(t, plain, WithPlan(planPath))
	if rep.OK() || !hasProblem(rep, RecordFile, "names no site plan") {
		t.Fatalf("a record without a plan, verified with one: %v", rep.Problems)
	}
}

// verifyOK runs Verify and fails the test on an error.
func verifyOK(t *testing.T, dir string, opts ...Option) Report {
	t.Helper()
	rep, err := Verify(dir, opts...)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}
