package main

import (
	"errors"
	"fmt"
)

// ExitCode is the process's exit status. Scripts rely on these values;
// the README documents them.
type ExitCode int

// Exit codes.
const (
	ExitOK        ExitCode = 0 // audit: every step compliant; verify: the record is intact
	ExitDeviation ExitCode = 1 // audit: at least one deviation; verify: verification failed
	ExitError     ExitCode = 2 // usage error, unreachable device, wrong credentials, I/O error
	// ExitUntrusted: verify found the bundle intact, but checked its
	// signature only against the signer the bundle names (no
	// --allowed-signers), not against one the plant trusts.
	ExitUntrusted ExitCode = 4
	// ExitTrustChanged: STOP. The device's TLS certificate or SSH host key
	// differs from the pinned one or from the --fingerprint given; it may
	// be an impostor. The wizard's STOP screen and the audit end with it.
	ExitTrustChanged ExitCode = 3
	ExitInterrupt    ExitCode = 130
)

// trustChangedError is a device whose identity (certificate, host key)
// differs from the trusted one. The wizard's STOP screen reads the same
// contract (tui.TrustChangedError).
type trustChangedError interface {
	error
	TrustChanged() (subject, pinned, seen string)
}

// exitError carries an exit code with its message.
type exitError struct {
	code ExitCode
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code ExitCode, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func usageErr(format string, a ...any) error {
	return withCode(ExitError, fmt.Errorf(format, a...))
}

func codeOf(err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	// A changed identity wins over the code of any wrapper: scripts must
	// be able to tell an impostor from an unreachable device.
	var tc trustChangedError
	if errors.As(err, &tc) {
		return ExitTrustChanged
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitError
}
