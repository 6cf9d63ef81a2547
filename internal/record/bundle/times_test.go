package bundle

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/record"
)

// TestWriteRefusesTimesOutOfOrder: the observations and the restart time
// may be added to a record after record.Check ran; Write still signs no
// record that finished before a time it holds, and writes no folder.
func TestWriteRefusesTimesOutOfOrder(t *testing.T) {
	good := sampleRecord()
	cases := map[string]func(*record.Record){
		"observations after finished": func(r *record.Record) {
			r.Observations = &record.Observations{At: r.Finished.Add(time.Second), State: json.RawMessage(`{}`)}
		},
		"restart after finished": func(r *record.Record) { r.Restarted = r.Finished.Add(time.Second) },
		"step after finished":    func(r *record.Record) { r.Finished = r.Steps[3].At.Add(-time.Second) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			r := good
			r.Steps = append([]record.Step(nil), good.Steps...)
			edit(&r)
			out := t.TempDir()
			_, err := Write(out, Input{Record: r, Evidence: sampleEvidence(), Signer: newEd25519(t), Identity: identity})
			if err == nil || !strings.Contains(err.Error(), "after finished") {
				t.Fatalf("Write = %v, want a refusal naming the time after finished", err)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Fatalf("Write left %d entries in %s", len(ents), out)
			}
		})
	}
	// The same record in order is written.
	r := good
	r.Restarted = r.Finished
	r.Observations = &record.Observations{At: r.Finished, State: json.RawMessage(`{}`)}
	if _, err := Write(t.TempDir(), Input{Record: r, Evidence: sampleEvidence(), Signer: newEd25519(t), Identity: identity}); err != nil {
		t.Fatal(err)
	}
}
