package nport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transcript"
)

// systemGroup is MIB-II's system group, which a capture reads.
var systemGroup = []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.3.0",
	".1.3.6.1.2.1.1.4.0", ".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.1.6.0"}

// Capture is the read-only walk `commission capture` makes: it logs in,
// reads every page the driver visits (answering interstitials with their
// non-destructive choice), asks UDP 4800 and the SNMP system group, and
// logs out. Every exchange goes to o.Recorder, whose Write masks the
// secrets. Nothing is submitted to a settings page. The State is what the
// driver parsed, for the technician's summary.
func Capture(ctx context.Context, o Options) (State, error) {
	if o.Recorder == nil {
		return State{}, errors.New("capture: no recorder")
	}
	d := New(o)
	defer d.Close(ctx)
	st, err := d.Read(ctx)
	captureSNMP(ctx, o.Recorder, o.Host, d.ports["snmp"], d.o.Timeout)
	if st.Generation != "" {
		o.Recorder.Note("console generation: " + st.Generation + " (server " + st.Server + ")")
	}
	if err != nil {
		o.Recorder.Note("the walk stopped: " + printable.String(err.Error()))
		return st, err
	}
	return st, nil
}

// captureSNMP records the system group as the factory community sees it,
// over v2c, then v1 if v2c gets no answer.
func captureSNMP(ctx context.Context, rec *transcript.Recorder, host string, port int, timeout time.Duration) {
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version2c, gosnmp.Version1} {
		g := &gosnmp.GoSNMP{Target: host, Port: uint16(port), Community: "public", Version: v,
			Timeout: timeout, Retries: 0, Context: ctx, MaxOids: len(systemGroup)}
		if err := g.Connect(); err != nil {
			continue
		}
		pkt, err := g.Get(systemGroup)
		g.Conn.Close()
		note := fmt.Sprintf("SNMP %s get of the system group with the factory read community (masked)", v)
		if err != nil || pkt == nil {
			rec.Add(transcript.Exchange{Kind: "snmp", Note: note + ": no answer"})
			continue
		}
		var vals []transcript.Value
		for _, pv := range pkt.Variables {
			var s string
			switch x := pv.Value.(type) {
			case []byte:
				s = printable.String(string(x))
			case nil:
			default:
				s = printable.String(fmt.Sprint(x))
			}
			vals = append(vals, transcript.Value{OID: pv.Name, Value: s})
		}
		rec.Add(transcript.Exchange{Kind: "snmp", SNMP: vals, Note: note})
		return
	}
}
