package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/simweb"
)

func (a *app) simCommand() *cobra.Command {
	var (
		addr, tlsAddr, caOut, idsOut string
		works                        int
		seed                         int64
	)
	cmd := &cobra.Command{
		Use:   "sim [--addr ADDR] [--works N] [--seed S]",
		Short: "Serve the simulated scholarly web (HTTP and HTTPS with its own CA) until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			srv, err := simweb.New(simweb.Config{Works: works, Seed: seed})
			if err != nil {
				return fmt.Errorf("sim: %w", err)
			}
			defer srv.Close()
			if err := srv.Start(cmd.Context(), addr, tlsAddr); err != nil {
				return usagef("sim: %w", err)
			}
			if err := srv.WriteCA(caOut); err != nil {
				return usagef("sim: --ca-out %s: %w", caOut, err)
			}
			if idsOut != "" {
				if err := writeWorldInputs(srv.World(), idsOut); err != nil {
					return usagef("sim: --ids-out %s: %w", idsOut, err)
				}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "simulated scholarly web: %d works (seed %d)\n", len(srv.World().Works), seed)
			fmt.Fprintf(out, "CA certificate: %s\n", caOut)
			flags := []string{}
			for _, ct := range srv.ConnectTo() {
				flags = append(flags, "--connect-to "+ct)
			}
			fmt.Fprintf(out, "point oafetch at it with:\n  %s --ca-file %s\n", strings.Join(flags, " "), caOut)
			if idsOut != "" {
				fmt.Fprintf(out, "the world's identifiers: %s\n", idsOut)
			}
			select {
			case <-a.stop.Done():
			case <-cmd.Context().Done():
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "HTTP listen address (loopback)")
	f.StringVar(&tlsAddr, "tls-addr", "127.0.0.1:8443", "HTTPS listen address (loopback)")
	f.IntVar(&works, "works", 200, "works in the simulated world")
	f.Int64Var(&seed, "seed", 1, "world seed")
	f.StringVar(&caOut, "ca-out", "oafetch-sim-ca.pem", "where to write the CA certificate")
	f.StringVar(&idsOut, "ids-out", "", "write the world's identifiers, one per line, to this file")
	return cmd
}

// writeWorldInputs writes each simulated work's input spelling, one per line.
func writeWorldInputs(w *simweb.World, path string) error {
	var b strings.Builder
	for _, sw := range w.Works {
		b.WriteString(sw.Input)
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
