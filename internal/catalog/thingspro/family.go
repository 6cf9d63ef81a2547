package thingspro

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/catalog"
	device "github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/family"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transcript"
)

// Family is the ThingsPro Edge family: its guide, its driver and its
// capture walk. cmd/commission lists it in its registry.
var Family = family.Descriptor{
	Name:  "thingspro",
	Label: "Moxa ThingsPro Edge",
	Guide: family.GuideOf(Catalog),
	Open: func(o access.Options, rep steps.Reporter) (family.Session, error) {
		drv := device.New(device.Options{Options: o})
		return family.NewSession(Catalog(), drv, rep, o.Timeout), nil
	},
	Recheck: func(raw json.RawMessage) (map[string]steps.Finding, error) {
		return catalog.Recheck(Catalog(), raw)
	},
	Main:     "https",
	Services: []string{"https", "http", "ssh", "discovery"},
	Timing:   familyTiming,
	Capture: func(ctx context.Context, o access.Options, rec *transcript.Recorder) (string, error) {
		st, err := device.Capture(ctx, device.Options{Options: o}, rec)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, firmware %s", printable.String(st.Identity.Model), printable.String(st.Identity.Firmware)), nil
	},
}

// familyTiming is the catalog's wording; the gateway's verifying read
// stands where other families restart.
func familyTiming() family.Timing {
	t := Timing()
	restart := t.Restart
	if restart == "" {
		restart = t.Commit
	}
	return family.Timing{Apply: t.Apply, Restart: restart, Delete: t.Delete}
}
