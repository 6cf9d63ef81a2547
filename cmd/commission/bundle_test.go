package main

import (
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

func TestLastRestartFromTheJournal(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	j, err := record.CreateJournal(t.TempDir(), record.Header{Family: "nport", Address: "127.0.0.1", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if got := lastRestart(j.Path()); !got.IsZero() {
		t.Fatalf("restart %v in a journal without one", got)
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	res := &steps.Result{StepID: "a", Outcome: steps.Staged}
	for _, ev := range []steps.Event{
		{Time: at(1), Kind: steps.StepStaged, StepID: "a", Result: res},
		{Time: at(2), Kind: steps.DeviceProgress, Message: "restarting"},
		{Time: at(3), Kind: steps.DeviceProgress, Message: "back"},
		{Time: at(4), Kind: steps.StepStaged, StepID: "a", Result: res},
		{Time: at(5), Kind: steps.DeviceProgress, Message: "restarting"},
		{Time: at(6), Kind: steps.DeviceProgress, Message: "back"},
	} {
		j.Report(ev)
	}
	if got := lastRestart(j.Path()); !got.Equal(at(5)) {
		t.Fatalf("last restart %v, want %v", got, at(5))
	}
}
