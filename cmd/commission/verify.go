package main

import (
	"context"
	"io"
)

func runVerify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return usageErr("verify is not built yet")
}

func runPrint(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return usageErr("print is not built yet")
}
