package nport

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/commission-tool/commission/internal/family"
)

// genLabels name the generations in the demo's device list.
var genLabels = map[Generation]string{GenGA: "GA firmware", GenSec: "security firmware"}

// demoConfigs is one simulated NPort per generation the guide supports
// (Generations: GA and the security firmware; G1 is refused by the
// driver and not simulated), each with its own MAC and serial number so
// that discovery lists them apart. With cfg.StateDir each keeps its state
// in its own subfolder, DemoStateDir.
func demoConfigs(cfg family.DemoConfig) []Config {
	var out []Config
	for i, g := range Generations() {
		c := Config{Generation: g, RestartDelay: cfg.RestartDelay,
			MAC: fmt.Sprintf("00:90:E8:5C:11:%02X", 0x2A+i), Serial: fmt.Sprintf("%d", 6621+i)}
		if cfg.StateDir != "" {
			c.StateDir = DemoStateDir(cfg.StateDir, g)
		}
		out = append(out, c)
	}
	return out
}

// DemoStateDir is the folder, below the demo's state folder, where the
// demo's device of generation g keeps its state: nport-ga, nport-g-sec.
func DemoStateDir(stateDir string, g Generation) string {
	return filepath.Join(stateDir, "nport-"+strings.ToLower(string(g)))
}

// Demo starts one simulated NPort per supported generation on loopback
// for the demo (the family.Demo contract): labelled with model and
// generation, the factory login admin/moxa, Sim the *Device. With
// cfg.StateDir each device resumes from its subfolder (Config.StateDir):
// settings, passwords, certificate and ports as the last run left them;
// without, each is factory-new on new ports. On an error it closes what
// it started.
func Demo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	return demo(demoConfigs(cfg), nil)
}

// demo starts cfgs in order; started, when set, sees each device started.
func demo(cfgs []Config, started func(*Device)) ([]family.DemoDevice, error) {
	var out []family.DemoDevice
	for _, c := range cfgs {
		d, err := Start(c)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, fmt.Errorf("start the simulated NPort (%s): %w", c.Generation, err)
		}
		if started != nil {
			started(d)
		}
		out = append(out, family.DemoDevice{
			Label: fmt.Sprintf("%s, %s (simulated)", d.cfg.Model, genLabels[d.cfg.Generation]),
			Host:  d.Host(), Ports: d.Ports(), User: "admin", Password: "moxa",
			LoginChanged: !d.accepts("admin", "moxa"),
			Sim:          d, Close: func() { d.Close() },
		})
	}
	return out, nil
}

// accepts reports whether user and pw would log in now (an active
// account with that password), without a login: nothing is logged.
func (d *Device) accepts(user, pw string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := d.effective.account(user)
	return i >= 0 && d.effective.Accounts[i].Active && d.effective.Accounts[i].Password == pw
}
