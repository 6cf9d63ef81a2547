package nport

import (
	"context"
	"net/http"
	"testing"

	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/transcript"
)

// TestReadFetchesEachPageOnce_Simulator: a Read that logs in fetches each
// console page once (the Port N entry that is the Operation Modes page
// itself is not fetched again to be read); only the page the login landed
// on is fetched again, as the Overview.
func TestReadFetchesEachPageOnce_Simulator(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) {
			_, drv := startSim(t, simnport.Config{Generation: g}, "admin", "moxa")
			drv.drop()
			rec := transcript.NewRecorder()
			drv.o.Recorder = rec
			if _, err := drv.Read(context.Background()); err != nil {
				t.Fatal(err)
			}
			home := ""
			if drv.sess.home != nil {
				home = drv.sess.home.URL.RequestURI()
			}
			seen := map[string]int{}
			for _, e := range rec.Exchanges() {
				if e.Kind == "http" && e.Request.Method == http.MethodGet {
					seen[e.Request.URL]++
				}
			}
			ports := 0
			for u, n := range seen {
				if portQuery().MatchString(u) {
					ports++
				}
				if n > 1 && u != home {
					t.Errorf("GET %s sent %d times", u, n)
				}
			}
			if len(seen) < 10 || ports == 0 {
				t.Fatalf("%d pages fetched, %d port pages: %v", len(seen), ports, seen)
			}
		})
	}
}
