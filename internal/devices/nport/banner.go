package nport

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transport"
)

// bannerPrompts end the telnet banner.
var bannerPrompts = []string{"username:", "password:", "selection:"}

// maxBanner bounds the telnet banner.
const maxBanner = 8192

// Banner connects to the telnet console at hostport, reads the banner up
// to the login prompt and returns the model and firmware it shows, both
// cleaned with printable.String. It sends nothing but option refusals.
func Banner(ctx context.Context, hostport string, timeout time.Duration) (model, firmware string, err error) {
	if timeout <= 0 {
		timeout = transport.DefaultTimeout
	}
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t, err := transport.DialTelnet(c, hostport, timeout)
	if err != nil {
		return "", "", err
	}
	defer t.Close()
	text, err := t.ReadUntil(c, maxBanner, bannerPrompts...)
	if err != nil && text == "" {
		return "", "", fmt.Errorf("telnet banner: %w", err)
	}
	model, firmware = parseBanner(text)
	if model == "" && firmware == "" {
		if err == nil {
			err = errors.New("no model or firmware in it")
		}
		return "", "", fmt.Errorf("telnet banner: %w", err)
	}
	return model, firmware, nil
}

var ansiSeq = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])`)
})

// parseBanner finds "Model name : X" and "Firmware version : Y" lines.
func parseBanner(text string) (model, firmware string) {
	text = ansiSeq().ReplaceAllString(text, "")
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch printable.String(k) {
		case quirks.BannerModel:
			model = printable.String(v)
		case quirks.BannerFirmware:
			firmware = printable.String(v)
		}
	}
	return model, firmware
}
