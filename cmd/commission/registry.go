package main

import (
	kepwarecat "github.com/commission-tool/commission/internal/catalog/kepware"
	npcatalog "github.com/commission-tool/commission/internal/catalog/nport"
	tpcatalog "github.com/commission-tool/commission/internal/catalog/thingspro"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
)

// registry lists the supported families, in the order the wizard shows
// them, each with the simulator the demo starts for it. Adding a family
// is one line here; nothing else in the command or the wizard names a
// family (TestCommandNamesNoFamily keeps it so).
var registry = []entry{
	{Descriptor: npcatalog.Family, demo: simnport.Demo},
	{Descriptor: tpcatalog.Family, demo: simthingspro.Demo},
	{Descriptor: kepwarecat.Family, demo: simkepware.Demo},
}
