package probe

import (
	"context"
	"encoding/xml"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/peertest"
)

// maxNmapRatio is how much of nmap's time a Run of the same ports may
// take: Run on loopback must cost at most half of what `nmap -Pn -sT`
// reports for the same scan (its own "scanned in" time, which leaves out
// the loading of the program).
const maxNmapRatio = 0.5

// nmapStats is the run summary of nmap's XML output.
type nmapStats struct {
	Hosts []struct {
		Ports []struct {
			PortID int `xml:"portid,attr"`
			State  struct {
				State string `xml:"state,attr"`
			} `xml:"state"`
		} `xml:"ports>port"`
	} `xml:"host"`
	Finished struct {
		Elapsed float64 `xml:"elapsed,attr"` // seconds, two decimals
	} `xml:"runstats>finished"`
}

// speedTargets is the TCP half of BenchmarkRunAllPorts: four ports that
// accept and hold, four that refuse. nmap -sT without root scans TCP
// only, so the comparison is TCP only.
func speedTargets(tb testing.TB) []Target {
	tb.Helper()
	var targets []Target
	for range 4 {
		targets = append(targets,
			Target{Name: "open", Network: "tcp", Port: tcpOpen(tb, false)},
			Target{Name: "closed", Network: "tcp", Port: tcpClosed(tb)},
		)
	}
	return targets
}

// nmapConnectScan runs `nmap -Pn -sT` on the targets' ports of 127.0.0.1
// and returns the state of each port, nmap's own elapsed time and the
// whole process's wall time.
func nmapConnectScan(tb testing.TB, nmap string, targets []Target) (states map[int]string, elapsed, wall time.Duration) {
	tb.Helper()
	ports := make([]string, len(targets))
	for i, t := range targets {
		ports[i] = strconv.Itoa(t.Port)
	}
	args := []string{"-Pn", "-sT", "-n", "-oX", "-", "-p", strings.Join(ports, ","), "127.0.0.1"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, nmap, args...).Output()
	wall = time.Since(start)
	if err != nil {
		tb.Fatalf("nmap %s: %v", strings.Join(args, " "), err)
	}
	var st nmapStats
	if err := xml.Unmarshal(out, &st); err != nil {
		tb.Fatalf("parse nmap XML: %v", err)
	}
	states = map[int]string{}
	for _, h := range st.Hosts {
		for _, p := range h.Ports {
			states[p.PortID] = p.State.State
		}
	}
	return states, time.Duration(st.Finished.Elapsed * float64(time.Second)), wall
}

// runChecked runs Run on targets and fails unless every port has the
// state of its name ("open" or "closed"), and returns Run's wall time.
func runChecked(tb testing.TB, targets []Target) time.Duration {
	tb.Helper()
	start := time.Now()
	got := Run(context.Background(), "127.0.0.1", targets, time.Second)
	took := time.Since(start)
	for _, r := range got {
		if string(r.State) != r.Name || r.Detail == DetailClosedByPeer {
			tb.Fatalf("%d/%s: %s (%s), want %s", r.Port, r.Network, r.State, r.Detail, r.Name)
		}
	}
	return took
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestFasterThanNmap scans the same loopback ports with nmap -Pn -sT and
// with Run, in alternation, and checks that both reach the same verdict
// on every port and that the median Run takes at most maxNmapRatio of
// nmap's median own elapsed time.
func TestFasterThanNmap(t *testing.T) {
	nmap := peertest.Require(t, "nmap")
	if testing.Short() {
		t.Skip("timing comparison with nmap skipped in -short mode")
	}
	targets := speedTargets(t)
	const rounds = 7
	var runs, nmapElapsed, nmapWall []time.Duration
	for range rounds {
		states, elapsed, wall := nmapConnectScan(t, nmap, targets)
		for _, tg := range targets {
			if states[tg.Port] != tg.Name {
				t.Fatalf("%d/tcp: nmap says %q, want %s", tg.Port, states[tg.Port], tg.Name)
			}
		}
		nmapElapsed = append(nmapElapsed, elapsed)
		nmapWall = append(nmapWall, wall)
		runs = append(runs, runChecked(t, targets))
	}
	run, ne, nw := median(runs), median(nmapElapsed), median(nmapWall)
	ratio := float64(run) / float64(ne)
	t.Logf("medians of %d rounds on %d ports: Run %v; nmap -Pn -sT %v by its own clock, %v whole process; ratio %.2f (whole process %.3f)",
		rounds, len(targets), run, ne, nw, ratio, float64(run)/float64(nw))
	if ne <= 0 {
		t.Fatalf("nmap reported no elapsed time")
	}
	if ratio > maxNmapRatio {
		t.Errorf("Run takes %.2f of nmap's time (%v against %v), want at most %.2f", ratio, run, ne, maxNmapRatio)
	}
}

// BenchmarkVersusNmap probes the same eight loopback TCP ports with Run
// and with an nmap -Pn -sT process, in one benchmark run. The nmap
// sub-benchmark also reports nmap's own elapsed time (elapsed-ns/op,
// 10 ms resolution), which leaves out the loading of the program.
func BenchmarkVersusNmap(b *testing.B) {
	nmap := peertest.Require(b, "nmap")
	targets := speedTargets(b)
	b.Run("probe", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			runChecked(b, targets)
		}
	})
	b.Run("nmap", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			states, e, _ := nmapConnectScan(b, nmap, targets)
			if len(states) != len(targets) {
				b.Fatalf("nmap reported %d ports of %d", len(states), len(targets))
			}
			elapsed += e
		}
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "elapsed-ns/op")
	})
}
