package thingspro

import "time"

// quirks holds every detail of the gateway's API that the reference
// marks inferred [I] or confirmed only on a sibling model, so a field test
// against a real ThingsPro Edge 2.x unit corrects it in one edit. Paths
// and shapes that Moxa's published OpenAPI documents are used directly in
// the driver (and checked by the contract test).
var quirks = struct {
	// NATPath is AIG-302's NAT switch; TPE 2.x may expose NAT only as a
	// /system/services entry ("nat"). The driver tries this path and
	// reports the step not applicable when neither exists.
	NATPath string
	// DiscoveryPath switches ThingsPro Proxy device discovery (UDP 40404).
	DiscoveryPath string
	// ProvisionPath switches ThingsPro Proxy provisioning.
	ProvisionPath string
	// ProvisionOffAfterSec is the schedule field the API expects with it.
	ProvisionOffAfterSec int
	// SSHPort is sent back with the SSH server switch.
	SSHPort int

	// After a certificate import Commit waits until the HTTPS port
	// presents the new certificate to a pinned handshake: nothing in
	// Moxa's documentation says whether PUT /system/httpserver answers
	// before or after the web server reloads its listener, and a
	// verifying read that met the old certificate would be refused by
	// the new pin. All inferred, none measured on a unit yet:
	//
	// CertTryRTTs times the measured round trip bounds one try (a
	// connect and a handshake: about three round trips plus the
	// gateway's RSA signature), at least CertTryMin, at most the
	// timeout.
	CertTryRTTs int
	CertTryMin  time.Duration
	// CertPollRTTs times the round trip is the pause between tries, at
	// least CertPollMin, at most a tenth of the timeout.
	CertPollRTTs int
	CertPollMin  time.Duration
	// CertSwapTimeouts times the configured timeout bounds the whole wait.
	CertSwapTimeouts int
	// RTTSamples round trips are needed before their median is used;
	// before, the shortest one is (inferred: the first ones carry the
	// connection set-up).
	RTTSamples int
}{
	NATPath:              "/device/firewall/user/snat",
	DiscoveryPath:        "/system/discovery",
	ProvisionPath:        "/system/provision",
	ProvisionOffAfterSec: 900,
	SSHPort:              22,
	CertTryRTTs:          20,
	CertTryMin:           50 * time.Millisecond,
	CertPollRTTs:         4,
	CertPollMin:          5 * time.Millisecond,
	CertSwapTimeouts:     1,
	RTTSamples:           3,
}
