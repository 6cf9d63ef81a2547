//go:build sdkserve

package kepware

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestServeForSDK serves the simulator until the test binary is killed,
// for running a vendor client (PTC's Python SDK and its tests) against it
// by hand. It is built only with the sdkserve tag, so the suite neither
// runs nor skips it; COMMISSION_KEPWARE_SERVE names the file the ports
// and the fingerprint are written to as shell variables.
// COMMISSION_KEPWARE_EDGE=1 simulates Kepware Edge.
//
//	COMMISSION_KEPWARE_SERVE=/tmp/kep.env go test -tags sdkserve -run TestServeForSDK -timeout 0 ./internal/sim/kepware/
func TestServeForSDK(t *testing.T) {
	out := os.Getenv("COMMISSION_KEPWARE_SERVE")
	if out == "" {
		t.Fatal("set COMMISSION_KEPWARE_SERVE=<file> to serve the simulator for an external client")
	}
	d, err := Start(Config{Edge: os.Getenv("COMMISSION_KEPWARE_EDGE") == "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p := d.Ports()
	env := fmt.Sprintf("KEP_HOST=%s\nKEP_HTTP=%d\nKEP_HTTPS=%d\nKEP_PW=%s\n", d.Host(), p[SvcConfigHTTP], p[SvcConfigHTTPS], DefaultAdminPassword)
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp")
	if err := os.WriteFile(tmp, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	select {} // until killed
}
