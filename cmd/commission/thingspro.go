package main

import (
	"context"
	"errors"
	"sync"

	"github.com/commission-tool/commission/internal/devices/thingspro"
)

// lazyGateway connects to a ThingsPro Edge gateway on the first Read, so
// that building an engine sends nothing (the gateway's login is itself a
// request, and may force a password change).
type lazyGateway struct {
	opts thingspro.Options
	mu   sync.Mutex
	drv  *thingspro.Driver
}

// mustChangeError marks the gateway's first-login password change, which
// the wizard answers by asking for a new password.
type mustChangeError struct{ error }

func (e mustChangeError) Unwrap() error { return e.error }

// PasswordChangeRequired is what the wizard looks for.
func (mustChangeError) PasswordChangeRequired() bool { return true }

func (g *lazyGateway) driver(ctx context.Context) (*thingspro.Driver, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.drv != nil {
		return g.drv, nil
	}
	d, err := thingspro.Connect(ctx, g.opts)
	if errors.Is(err, thingspro.ErrPasswordMustChange) {
		return nil, mustChangeError{err}
	}
	if err != nil {
		return nil, err
	}
	g.opts.Password, g.opts.NewPassword = "", "" // the driver keeps what it needs
	g.drv = d
	return d, nil
}

// Read connects if needed, then reads the gateway.
func (g *lazyGateway) Read(ctx context.Context) (thingspro.State, error) {
	d, err := g.driver(ctx)
	if err != nil {
		return thingspro.State{}, err
	}
	return d.Read(ctx)
}

// Stage sends the changes.
func (g *lazyGateway) Stage(ctx context.Context, from, to thingspro.State) error {
	d, err := g.driver(ctx)
	if err != nil {
		return err
	}
	return d.Stage(ctx, from, to)
}

// Commit makes the changes effective.
func (g *lazyGateway) Commit(ctx context.Context, progress func(string)) error {
	d, err := g.driver(ctx)
	if err != nil {
		return err
	}
	return d.Commit(ctx, progress)
}

// Close logs out.
func (g *lazyGateway) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.drv != nil {
		g.drv.Close()
		g.drv = nil
	}
}
