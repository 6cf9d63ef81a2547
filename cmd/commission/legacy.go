package main

// Temporary: the NPort and Kepware descriptors and the three demo
// functions until their family packages export them.

import (
	"fmt"

	"github.com/commission-tool/commission/internal/family"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
)

func legacyKepwareDemo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	kp, err := simkepware.Start(simkepware.Config{})
	if err != nil {
		return nil, fmt.Errorf("start the simulated Kepware server: %w", err)
	}
	return []family.DemoDevice{{Label: "Kepware Server (simulated)", Host: kp.Host(), Ports: kp.Ports(), User: "Administrator", Password: simkepware.DefaultAdminPassword, Sim: kp, Close: kp.Close}}, nil
}

func legacyThingsProDemo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	gw, err := simthingspro.Start(simthingspro.Config{NoForcedChange: cfg.FirstLoginDone})
	if err != nil {
		return nil, fmt.Errorf("start the simulated ThingsPro Edge gateway: %w", err)
	}
	return []family.DemoDevice{{Label: "ThingsPro Edge (simulated)", Host: gw.Host(), Ports: gw.Ports(), User: "admin", Password: "admin@123", Sim: gw, Close: func() { gw.Close() }}}, nil
}
