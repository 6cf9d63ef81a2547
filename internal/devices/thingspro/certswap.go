package thingspro

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/commission-tool/commission/internal/transport"
)

// errOldCert is a handshake in which the gateway presented another
// certificate than the one imported.
var errOldCert = errors.New("the HTTPS port still presents the certificate it had before the import")

// awaitCert waits until a handshake with the HTTPS port presents the
// certificate whose fingerprint is fp, so that the verifying read, which
// pins it, is not refused by a gateway still reloading its web server.
// Each try is bounded by a multiple of the measured round trip, the
// pause between tries too, and the whole by the configured timeout
// (quirks.Cert*).
func (d *Driver) awaitCert(ctx context.Context, fp string) error {
	rtt := d.c.rtt.get()
	timeout := d.o.Timeout
	try := scaled(rtt, quirks.CertTryRTTs, quirks.CertTryMin, timeout)
	pause := scaled(rtt, quirks.CertPollRTTs, quirks.CertPollMin, timeout/10)
	within := time.Duration(quirks.CertSwapTimeouts) * timeout
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	host, _, _ := net.SplitHostPort(d.https)
	cfg := &tls.Config{
		InsecureSkipVerify: true, // replaced by VerifyConnection's check of the one certificate expected
		ServerName:         host,
		MinVersion:         tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the gateway sent no certificate")
			}
			if !transport.SameFingerprint(transport.Fingerprint(cs.PeerCertificates[0].Raw), fp) {
				return errOldCert
			}
			return nil
		},
	}
	var err error // the last try's, unless the end of the whole wait cut it short
	old := 0      // tries that met the old certificate
	for tries := 1; ; tries++ {
		e := tryCert(wctx, cfg, d.https, try)
		if e == nil {
			return nil
		}
		if errors.Is(e, errOldCert) {
			old++
		}
		if err == nil || wctx.Err() == nil {
			err = e
		}
		t := time.NewTimer(pause)
		select {
		case <-wctx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return fmt.Errorf("wait for the imported certificate: %w", ctx.Err())
			}
			// what the tries met, the old certificate first: a try that
			// timed out on a busy laptop says less than one that saw it
			switch {
			case old > 0 && old < tries:
				err = fmt.Errorf("%w in %d of them; the others got no answer (last: %v)", errOldCert, old, err)
			case old > 0:
				err = errOldCert
			default:
				err = fmt.Errorf("the HTTPS port does not answer: %w", err)
			}
			return fmt.Errorf("the certificate was imported, but %d handshakes over %s did not show it on %s: %w", tries, within, d.https, err)
		case <-t.C:
		}
	}
}

// tryCert makes one handshake with addr, bounded by within.
func tryCert(ctx context.Context, cfg *tls.Config, addr string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	c, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	_ = c.Close() // the handshake showed what was asked
	return nil
}
