// Command mlrc does autonomous machine-learning research with LLM agents.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mlrc/mlrc/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}
