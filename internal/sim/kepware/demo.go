package kepware

import (
	"fmt"
	"path/filepath"

	"github.com/commission-tool/commission/internal/family"
)

// DemoUser is the simulated server's administrator account.
const DemoUser = "Administrator"

// Demo starts one simulated Kepware Server on loopback for the demo, with
// its ports by the family's service names (config-https, config-http,
// opcua, rest-server) and the Administrator's installation password,
// DefaultAdminPassword. Kepware applies changes without a restart and
// forces no first-login change, so cfg.RestartDelay and
// cfg.FirstLoginDone change nothing. With cfg.StateDir the server keeps
// its state in the subfolder DemoStateDir and resumes from it
// (configuration, passwords, certificate, ports); without, it is
// factory-new on new ports every run.
func Demo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	c := Config{}
	if cfg.StateDir != "" {
		c.StateDir = DemoStateDir(cfg.StateDir)
	}
	kp, err := Start(c)
	if err != nil {
		return nil, fmt.Errorf("start the simulated Kepware server: %w", err)
	}
	return []family.DemoDevice{{Label: "Kepware Server (simulated)", Host: kp.Host(), Ports: kp.Ports(),
		User: DemoUser, Password: DefaultAdminPassword, LoginChanged: !kp.Login(DemoUser, DefaultAdminPassword),
		Sim: kp, Close: kp.Close}}, nil
}

// DemoStateDir is the folder, below the demo's state folder, where the
// demo's server keeps its state: kepware.
func DemoStateDir(stateDir string) string { return filepath.Join(stateDir, "kepware") }
