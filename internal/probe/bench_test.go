package probe

import (
	"context"
	"crypto/tls"
	"testing"
	"time"
)

// BenchmarkRunAllPorts probes 12 loopback targets: open and closed TCP,
// answering and closed UDP. An open TCP port costs the peer-close watch
// (closeGrace: a few measured round trips), which bounds one Run from below.
func BenchmarkRunAllPorts(b *testing.B) {
	var targets []Target
	for range 4 {
		targets = append(targets,
			Target{Name: "open", Network: "tcp", Port: tcpOpen(b, false)},
			Target{Name: "closed", Network: "tcp", Port: tcpClosed(b)},
		)
	}
	for range 2 {
		targets = append(targets,
			Target{Name: "udp-open", Network: "udp", Port: udpServer(b, echoAck), Request: []byte("probe")},
			Target{Name: "udp-closed", Network: "udp", Port: udpClosed(b), Request: []byte("probe")},
		)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range Run(ctx, "127.0.0.1", targets, time.Second) {
			if r.State != Open && r.State != Closed {
				b.Fatalf("%s %d/%s: %s (%s)", r.Name, r.Port, r.Network, r.State, r.Detail)
			}
		}
	}
}

// BenchmarkTLS runs the four handshakes against a loopback server that
// accepts TLS 1.0 to 1.3.
func BenchmarkTLS(b *testing.B) {
	cert, key := makeCert(b, certSpec{cn: "bench"})
	port := tlsServer(b, &tls.Config{MinVersion: tls.VersionTLS10}, cert, key)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rep := TLS(ctx, "127.0.0.1", port, 2*time.Second)
		if rep.Cert == nil || !rep.Versions[TLS10] || !rep.Versions[TLS13] {
			b.Fatalf("unexpected report: %+v", rep)
		}
	}
}
