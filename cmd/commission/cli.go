package main

import (
	"flag"
	"strings"
)

// parseFlags parses args with fs and accepts flags after positional
// arguments too, as gh and kubectl do ("verify DIR --allowed-signers F").
// A "--" ends the flags; everything after it is positional. It returns
// the positional arguments in order.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			return append(rest, left...), nil // after "--": all positional
		}
		if len(left) == 0 {
			return rest, nil
		}
		// fs.Parse stopped at a positional argument: keep it, parse on.
		rest = append(rest, left[0])
		args = left[1:]
	}
}

// indent shows lines indented by four spaces, one per line.
func indent(lines []string) string {
	return "    " + strings.Join(lines, "\n    ")
}
