package transcript

import (
	"maps"

	"github.com/commission-tool/commission/internal/transport"
)

// REST returns an Observe hook for a transport.RESTClient that adds each
// of its exchanges to rec as an "http" exchange. prefix is the path of
// the client's base URL ("/api/v1", or "" for none): it goes in front of
// each URL, so the transcript holds the path as it went on the wire. The
// client masks secret keys itself; give it Masked as its mask
// (RESTOptions.Mask) so that Replay takes those values as wildcards.
func REST(rec *Recorder, prefix string) func(transport.RESTExchange) {
	return func(e transport.RESTExchange) {
		x := Exchange{Kind: "http",
			Request: &Request{Method: e.Method, URL: prefix + e.URL, Body: e.RequestBody},
			Response: &Response{Status: e.Status, Body: e.ReplyBody, Error: e.Error,
				Header: maps.Clone(map[string][]string(e.ReplyHeader))}}
		if e.BodyKind != "" {
			x.Note = e.BodyKind + " body"
		}
		rec.Add(x)
	}
}
