package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/version"
)

// NewCmdVersion builds `shipshape version`.
func NewCmdVersion(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print shipshape's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version.Get()
			switch g.Output {
			case "json":
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(g.Streams.Out, "%s\n", b)
				return err
			case "yaml":
				b, err := yaml.Marshal(v)
				if err != nil {
					return err
				}
				_, err = g.Streams.Out.Write(b)
				return err
			}
			line := "shipshape " + v.Version
			if v.Commit != "" {
				line += " (" + v.Commit + ")"
			}
			_, err := fmt.Fprintf(g.Streams.Out, "%s %s %s\n", line, v.GoVersion, v.Platform)
			return err
		},
	}
}
