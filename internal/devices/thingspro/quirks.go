package thingspro

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
}{
	NATPath:              "/device/firewall/user/snat",
	DiscoveryPath:        "/system/discovery",
	ProvisionPath:        "/system/provision",
	ProvisionOffAfterSec: 900,
	SSHPort:              22,
}
