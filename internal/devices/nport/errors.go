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
// message (cleaned with printable.String).
type DeviceError struct {
	Page    string
	Message string
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("the device rejected %s: %s", e.Page, e.Message)
}

// ErrUnsupportedFirmware is a console generation the tool recognises and
// will not drive.
var ErrUnsupportedFirmware = errors.New("this firmware is not supported")

// UnknownConsoleError is a login page that matches no known console
// generation. It names what was seen so that a capture can be sent back.
type UnknownConsoleError struct {
	URL, Title, Server string
	Fields             []string
}

func (e *UnknownConsoleError) Error() string {
	return fmt.Sprintf("this firmware is not yet known to commission (login page %s, title %q, server %q, fields %v): nothing was changed; run `commission capture --address <device>` and send the transcript folder it writes so support can add this firmware",
		e.URL, e.Title, e.Server, e.Fields)
}

// InterstitialError is a page between the login and the console that the
// tool does not recognise; it answers nothing on it.
type InterstitialError struct {
	URL, Title string
	Buttons    []string
}

func (e *InterstitialError) Error() string {
	return fmt.Sprintf("after the login the device showed a page the tool does not know (%s, title %q, buttons %v): nothing was changed; open the console in a browser to see what it asks, or run `commission capture` and send the transcript",
		e.URL, e.Title, e.Buttons)
}

// NoSessionError is a login whose replies set no session cookie: the
// device opened no session. Why is the generation profile's explanation.
type NoSessionError struct {
	Generation, Why string
}

func (e *NoSessionError) Error() string { return e.Why }
