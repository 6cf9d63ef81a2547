package nport

import (
	"errors"
	"fmt"
)

// ErrWrongPassword is a login the device refused.
var ErrWrongPassword = errors.New("the device refused the login: check the user name and password; after a few failures (5 by default when lockout is on) the account locks")

// ErrLockedOut is a login refused because the account is locked.
var ErrLockedOut = errors.New("the account is locked after too many failed logins: wait for the lockout time to pass (or ask whoever set the policy) before trying again")

// ErrTooManySessions is a login refused because the console already has
// as many sessions as it allows.
var ErrTooManySessions = errors.New("the console has reached its maximum number of logged-in users: log out elsewhere or wait for the auto logout")

// DeviceError is a submit the device rejected, with the device's own
// message (cleaned with devices.Printable).
type DeviceError struct {
	Page    string
	Message string
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("the device rejected %s: %s", e.Page, e.Message)
}
