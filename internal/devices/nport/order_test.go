package nport

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"

	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/transcript"
)

// TestRunOrderedRecordsInTaskOrder forces the tasks to end in reverse
// order (each waits for the next one's end): the recorder still gets
// their exchanges in the order of the tasks, and errors stay by index.
func TestRunOrderedRecordsInTaskOrder(t *testing.T) {
	rec := transcript.NewRecorder()
	const n = 4
	ended := make([]chan struct{}, n+1)
	for i := range ended {
		ended[i] = make(chan struct{})
	}
	close(ended[n])
	boom := errors.New("boom")
	tasks := make([]func(context.Context) error, n)
	for i := range tasks {
		tasks[i] = func(ctx context.Context) error {
			<-ended[i+1]
			defer close(ended[i])
			addExchange(ctx, rec, transcript.Exchange{Kind: "http", Note: string(rune('a' + i))})
			addExchange(ctx, rec, transcript.Exchange{Kind: "http", Note: string(rune('A' + i))})
			if i == 1 {
				return boom
			}
			return nil
		}
	}
	errs := runOrdered(context.Background(), rec, n, tasks)
	var got []string
	for _, e := range rec.Exchanges() {
		got = append(got, e.Note)
	}
	if want := []string{"a", "A", "b", "B", "c", "C", "d", "D"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded %q, want %q", got, want)
	}
	if !errors.Is(errs[1], boom) || errs[0] != nil || errs[2] != nil || errs[3] != nil {
		t.Fatalf("errors %v", errs)
	}
}

// TestCaptureOrderStable_Simulator captures the same device twice: the
// exchanges come in the same order (the page reads and UDP 4800 run
// concurrently, their exchanges are recorded in a fixed order).
func TestCaptureOrderStable_Simulator(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) {
			var first []string
			for range 3 {
				rec, _ := captureSim(t, g)
				var seq []string
				for _, e := range rec.Exchanges() {
					switch {
					case e.Kind == "http" && e.Request.Method == http.MethodGet:
						seq = append(seq, "GET "+e.Request.URL)
					case e.Kind == "udp":
						seq = append(seq, "udp "+e.Datagram.Request[:2])
					default:
						seq = append(seq, e.Kind)
					}
				}
				if first == nil {
					first = seq
					continue
				}
				if !reflect.DeepEqual(seq, first) {
					t.Fatalf("capture order changed:\n%q\n%q", first, seq)
				}
			}
		})
	}
}
