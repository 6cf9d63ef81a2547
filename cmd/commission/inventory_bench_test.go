package main

import (
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
)

// simFleet starts n simulated devices in this process, the three
// families in turn, and returns them as demo devices (without
// fingerprints: the benchmark pins them on first use).
func simFleet(tb testing.TB, n int) []demoDevice {
	tb.Helper()
	var devs []demoDevice
	for i := range n {
		switch i % 3 {
		case 0:
			d, err := simnport.Start(simnport.Config{RestartDelay: 50 * time.Millisecond})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { d.Close() })
			devs = append(devs, demoDevice{Family: "nport", Address: d.Host(), Ports: d.Ports(), User: "admin", Password: "moxa"})
		case 1:
			d, err := simkepware.Start(simkepware.Config{})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(d.Close)
			devs = append(devs, demoDevice{Family: "kepware", Address: d.Host(), Ports: d.Ports(), User: "Administrator", Password: simkepware.DefaultAdminPassword})
		case 2:
			d, err := simthingspro.Start(simthingspro.Config{NoForcedChange: true})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { d.Close() })
			devs = append(devs, demoDevice{Family: "thingspro", Address: d.Host(), Ports: d.Ports(), User: "admin", Password: "admin@123"})
		}
	}
	return devs
}

// BenchmarkAuditInventory audits N simulated devices (started in this
// process, so the simulators share its cores with the audit) in one
// inventory call, with the default --jobs 8 and with --jobs 32.
func BenchmarkAuditInventory(b *testing.B) {
	for _, n := range []int{1, 16, 64, 256} {
		for _, jobs := range []int{8, 32} {
			if n == 1 && jobs != 8 {
				continue
			}
			b.Run("N="+strconv.Itoa(n)+"/jobs="+strconv.Itoa(jobs), func(b *testing.B) {
				devs := simFleet(b, n)
				inv := inventoryCSV(b, devs)
				pins := filepath.Join(b.TempDir(), "known_devices")
				args := []string{"audit", "--inventory", inv, "--tofu", "--pins", pins, "--jobs", strconv.Itoa(jobs)}
				// The first call pins every certificate; the timed ones
				// are the repeat audits a plant runs.
				if err := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard); codeOf(err) != ExitDeviation {
					b.Fatalf("exit %d: %v", codeOf(err), err)
				}
				for b.Loop() {
					if err := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard); codeOf(err) != ExitDeviation {
						b.Fatalf("exit %d: %v", codeOf(err), err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/device")
			})
		}
	}
}
