package transport

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestGatherFromBindsTheLocalAddress: the request leaves from the address
// asked for (127.0.0.2 on loopback), or from the one the system picks.
func TestGatherFromBindsTheLocalAddress(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(from.(*net.UDPAddr).IP.String()), from) // tells the sender its source address
		}
	}()
	addr := pc.LocalAddr().String()
	for _, tc := range []struct{ from, want string }{{"127.0.0.2", "127.0.0.2"}, {"", "127.0.0.1"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		replies, err := Gather(ctx, tc.from, []string{addr}, []byte("who"), 64, 1)
		cancel()
		if err != nil || len(replies) != 1 || string(replies[0].Data) != tc.want {
			t.Fatalf("from %q: %v %v, want the device to see %s", tc.from, replies, err, tc.want)
		}
	}
	for _, bad := range []string{"eth0", "::1", "127.0.0.1:99"} {
		if _, err := Gather(context.Background(), bad, []string{addr}, []byte("who"), 64, 1); err == nil {
			t.Errorf("from %q accepted", bad)
		}
	}
}
