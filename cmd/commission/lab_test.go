package main

import (
	simnport "github.com/commission-tool/commission/internal/sim/nport"
)

// first is the lab's first simulated device of a family.
func (l *demoLab) first(family string) demoDevice {
	for _, d := range l.devices {
		if d.Family == family {
			return d
		}
	}
	panic("the demo lab has no " + family)
}

// nport is the first simulated NPort, to change behind the tool's back.
func (l *demoLab) nport() *simnport.Device { return l.first("nport").sim.(*simnport.Device) }
