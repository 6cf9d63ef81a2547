package thingspro

import (
	"fmt"

	"github.com/commission-tool/commission/internal/family"
)

// Factory login of the simulated gateway (the published ThingsPro Edge
// default; not a secret).
const (
	DemoUser     = "admin"
	DemoPassword = "admin@123"
)

// Demo starts one simulated ThingsPro Edge gateway on loopback for the
// demo, with its ports by the family's service names (https, http, ssh,
// discovery) and its factory login. cfg.FirstLoginDone turns off the
// forced first-login password change (Config.NoForcedChange). The
// gateway applies settings at once, so cfg.RestartDelay has nothing to
// delay, and it keeps no state between runs: cfg.StateDir is not used.
func Demo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	gw, err := Start(Config{NoForcedChange: cfg.FirstLoginDone})
	if err != nil {
		return nil, fmt.Errorf("start the simulated ThingsPro Edge gateway: %w", err)
	}
	return []family.DemoDevice{{Label: "ThingsPro Edge (simulated)", Host: gw.Host(), Ports: gw.Ports(),
		User: DemoUser, Password: DemoPassword, Sim: gw, Close: func() { gw.Close() }}}, nil
}
