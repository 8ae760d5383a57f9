package cli

import (
	"github.com/mlrc/mlrc/gate"
	"github.com/mlrc/mlrc/store"
)

// gateHuman asks at the run's human gates on this terminal and through the
// store, where the web UI (mlrc serve) answers too: the first answer wins
// and the terminal is told of one given elsewhere. With no terminal (nohup)
// the run waits for an answer from the web.
func (a *app) gateHuman(run *store.Run) *gate.Human {
	if a.console == nil {
		a.console = &gate.Console{In: a.env.Stdin, Out: a.env.Stdout}
	}
	return &gate.Human{Run: run, Console: a.console}
}
