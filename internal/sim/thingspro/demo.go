package thingspro

import (
	"fmt"
	"path/filepath"

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
// delay. With cfg.StateDir the gateway keeps its state in the
// subfolder DemoStateDir and resumes from it (configuration, passwords,
// certificate, ports; a resumed gateway's forced change is as it was
// left, whatever cfg.FirstLoginDone says); without, it is factory-new on
// new ports every run.
func Demo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	c := Config{NoForcedChange: cfg.FirstLoginDone}
	if cfg.StateDir != "" {
		c.StateDir = DemoStateDir(cfg.StateDir)
	}
	gw, err := Start(c)
	if err != nil {
		return nil, fmt.Errorf("start the simulated ThingsPro Edge gateway: %w", err)
	}
	return []family.DemoDevice{{Label: "ThingsPro Edge (simulated)", Host: gw.Host(), Ports: gw.Ports(),
		User: DemoUser, Password: DemoPassword, LoginChanged: !gw.accepts(DemoUser, DemoPassword),
		Sim: gw, Close: func() { gw.Close() }}}, nil
}

// accepts reports whether user and pw would log in now (an active
// account with that password), without a login: nothing is counted.
func (d *Device) accepts(user, pw string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.st.userByName(user)
	return u != nil && u.active && u.password == pw
}

// DemoStateDir is the folder, below the demo's state folder, where the
// demo's gateway keeps its state: thingspro.
func DemoStateDir(stateDir string) string { return filepath.Join(stateDir, "thingspro") }
