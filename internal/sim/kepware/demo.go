package kepware

import (
	"fmt"

	"github.com/commission-tool/commission/internal/family"
)

// DemoUser is the simulated server's administrator account.
const DemoUser = "Administrator"

// Demo starts one simulated Kepware Server on loopback for the demo, with
// its ports by the family's service names (config-https, config-http,
// opcua, rest-server) and the Administrator's installation password,
// DefaultAdminPassword. Kepware applies changes without a restart and
// forces no first-login change, so cfg.RestartDelay and
// cfg.FirstLoginDone change nothing; the server keeps no state between
// runs: cfg.StateDir is not used.
func Demo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	kp, err := Start(Config{})
	if err != nil {
		return nil, fmt.Errorf("start the simulated Kepware server: %w", err)
	}
	return []family.DemoDevice{{Label: "Kepware Server (simulated)", Host: kp.Host(), Ports: kp.Ports(),
		User: DemoUser, Password: DefaultAdminPassword, Sim: kp, Close: kp.Close}}, nil
}
