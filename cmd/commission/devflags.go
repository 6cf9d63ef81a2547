package main

import (
	"flag"
	"io"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/transport"
)

// deviceFlags are the flags that point a command at one device and log
// in to it: audit, audit --baseline and capture share them.
type deviceFlags struct {
	address     *string
	user        *string
	pwStdin     *bool
	ports       portFlags
	fingerprint *string
	tofu        *bool
	pins        *string
	timeout     *time.Duration
}

// addDeviceFlags defines the device flags on fs. addressHelp says what
// --address means for the command.
func addDeviceFlags(fs *flag.FlagSet, addressHelp string, timeout time.Duration) *deviceFlags {
	d := &deviceFlags{ports: portFlags{}}
	d.address = fs.String("address", "", addressHelp)
	d.user = fs.String("user", "", "the account to log in with (required)")
	d.pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	fs.Var(d.ports, "port", "override a service's port, as SERVICE=PORT (repeatable), e.g. https=8443; an unknown service is an error")
	d.fingerprint = fs.String("fingerprint", "", "expected TLS certificate fingerprint of the device (SHA256:base64 or the 32 hex pairs it shows); compared on every connection")
	d.tofu = fs.Bool("tofu", false, "trust the device's TLS certificate on first use and pin it")
	d.pins = fs.String("pins", "", "file of pinned TLS fingerprints (default: the user's commission config folder)")
	d.timeout = fs.Duration("timeout", timeout, "timeout for each network operation")
	return d
}

// check refuses flags that cannot work, before anything is read or sent.
// needAddress is false where the address may come from elsewhere (the
// baseline's record).
func (d *deviceFlags) check(needAddress bool) error {
	switch {
	case needAddress && *d.address == "":
		return usageErr("--address is required: the device's IP address or host name, optionally HOST:PORT")
	case *d.user == "":
		return usageErr("--user is required")
	case !*d.pwStdin:
		return usageErr("--password-stdin is required: pipe the password on standard input (it is never taken as a flag)")
	}
	if err := checkTimeout(*d.timeout); err != nil {
		return err
	}
	if *d.fingerprint != "" && transport.FingerprintHex(*d.fingerprint) == "" {
		return usageErr("--fingerprint %q is not a SHA-256 fingerprint: give SHA256:base64 (OpenSSH form) or the 32 hex pairs the device shows", *d.fingerprint)
	}
	return nil
}

// checkTimeout refuses a timeout no network operation can live with.
func checkTimeout(t time.Duration) error {
	if t <= 0 || t > time.Minute {
		return usageErr("--timeout must be between 1ms and 1m")
	}
	return nil
}

// target resolves the flags for a device of family fam at address (the
// flag's, or the one the caller found): the ports, the password from
// stdin and the pins, with --fingerprint expected on every connection.
func (d *deviceFlags) target(fam entry, address string, stdin io.Reader) (target, error) {
	host, aport, err := parseAddress(address)
	if err != nil {
		return target{}, withCode(ExitError, err)
	}
	tports, err := targetPorts(fam, aport, d.ports)
	if err != nil {
		return target{}, err
	}
	pw, err := readSecretLine(stdin)
	if err != nil {
		return target{}, withCode(ExitError, err)
	}
	pins, err := openPins(*d.pins)
	if err != nil {
		return target{}, withCode(ExitError, err)
	}
	if *d.fingerprint != "" {
		// Compared on every TLS connection to the device, pin or no pin.
		if err := pins.Expect(host, *d.fingerprint); err != nil {
			return target{}, withCode(ExitError, err)
		}
	}
	return target{Family: fam.Name, Address: host, User: *d.user, Password: pw, Ports: tports, Pins: pins, Timeout: *d.timeout}, nil
}

// familyFlagErr is the error for a missing or unknown --device.
func familyFlagErr(name string, known []string) error {
	if name == "" {
		return usageErr("--device is required (%s)", strings.Join(known, ", "))
	}
	return usageErr("unknown device family %q: use one of %s", name, strings.Join(known, ", "))
}
