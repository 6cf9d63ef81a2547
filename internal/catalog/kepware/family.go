package kepware

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/catalog"
	device "github.com/commission-tool/commission/internal/devices/kepware"
	"github.com/commission-tool/commission/internal/family"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transcript"
)

// Family is the PTC Kepware family: its guide, its driver and its
// capture walk. cmd/commission lists it in its registry. Kepware has no
// discovery.
var Family = family.Descriptor{
	Name:  "kepware",
	Label: "PTC Kepware",
	Guide: family.GuideOf(Catalog),
	Open: func(o access.Options, rep steps.Reporter) (family.Session, error) {
		drv := device.New(device.Options{Options: o})
		return family.NewSession(Catalog(), drv, rep, o.Timeout), nil
	},
	Recheck: func(raw json.RawMessage) (map[string]steps.Finding, error) {
		return catalog.Recheck(Catalog(), raw)
	},
	Main:     device.SvcConfigHTTPS,
	Services: []string{device.SvcConfigHTTPS, device.SvcConfigHTTP, device.SvcOPCUA, device.SvcRESTServer},
	Timing:   familyTiming,
	Capture: func(ctx context.Context, o access.Options, rec *transcript.Recorder) (string, error) {
		st, err := device.Capture(ctx, device.Options{Options: o}, rec)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, version %s", printable.String(st.Identity.Model), printable.String(st.Identity.Firmware)), nil
	},
}

// familyTiming is the catalog's wording; the verifying read stands where
// other families restart (Kepware never restarts).
func familyTiming() family.Timing {
	t := Timing()
	return family.Timing{Apply: t.Apply, Restart: t.Commit, Delete: t.Delete}
}
