package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/internal/buildinfo"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print mlrc's version and commit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, c := buildinfo.Get()
			fmt.Fprintf(a.env.Stdout, "mlrc %s (commit %s, %s)\n", v, c, runtime.Version())
			return nil
		},
	}
}
