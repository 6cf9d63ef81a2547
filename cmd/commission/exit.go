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
	ExitInterrupt ExitCode = 130
)

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
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitError
}
