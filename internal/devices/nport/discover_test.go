package nport

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	simnport "github.com/commission-tool/commission/internal/sim/nport"
)

// TestDiscoverFromChosenAddress_Simulator: the discovery request leaves
// from the address asked for (the chosen interface's; 127.0.0.2 on
// loopback), and the device sees it from there.
func TestDiscoverFromChosenAddress_Simulator(t *testing.T) {
	dev, err := simnport.Start(simnport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
		found, err := DiscoverFrom(context.Background(), from, []string{dev.Addr("moxa-udp")}, 300*time.Millisecond)
		if err != nil || len(found) != 1 || found[0].MAC == "" {
			t.Fatalf("from %s: %+v %v", from, found, err)
		}
		seen := dev.MoxaUDPSenders()
		if len(seen) == 0 || seen[len(seen)-1] != netip.MustParseAddr(from) {
			t.Fatalf("the device saw the request from %v, want %s", seen, from)
		}
	}
	if _, err := DiscoverFrom(context.Background(), "not-an-address", []string{dev.Addr("moxa-udp")}, 100*time.Millisecond); err == nil {
		t.Fatal("a bad local address was accepted")
	}
	if slices.Contains(dev.MoxaUDPSenders(), netip.MustParseAddr("127.0.0.1")) {
		t.Fatal("a request left from 127.0.0.1")
	}
}
