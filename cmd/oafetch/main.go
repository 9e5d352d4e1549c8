// Command oafetch fetches the open-access full texts of scholarly works.
//
// main parses flags, environment and config once, wires the graph, runs one
// subcommand and maps its error to a documented exit code:
//
//	0 the run finished (whatever each work's outcome)
//	1 an SLO or verify failure
//	2 usage or configuration error
//	3 interrupted (state is saved; run again to resume)
//	4 the job store or artifact store failed
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/worker"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// Exit codes (contract, DESIGN.md §4).
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 3
	exitStore       = 4
)

// Errors that select an exit code.
var (
	errSLO    = errors.New("an SLO is violated")
	errVerify = errors.New("verify found problems")
)

// usageError is bad command-line input.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

// storeError is a failure of the job store or the artifact store.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func asStoreErr(err error) error {
	if err == nil {
		return nil
	}
	return &storeError{err}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// run is main without the process: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	return runWith(args, stdin, stdout, stderr, environ, appOptions{})
}

// appOptions are settings no command line or config file can give; only
// tests set them.
type appOptions struct {
	// dialControl is the dialer's last-resort hook (hostpolicy
	// DialerConfig.Control): hostile_test.go refuses and records every dial
	// that is not to the simulated web, so a broken address guard fails the
	// test instead of sending traffic.
	dialControl func(network, address string, c syscall.RawConn) error
	// metricsServing is called with the /metrics URL once it serves;
	// workDone after the workers stopped, while /metrics still serves
	// (telemetry_test.go scrapes during and after a run).
	metricsServing func(url string)
	workDone       func()
}

// runWith is run with test-only options.
func runWith(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string, opts appOptions) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first SIGINT/SIGTERM stops claiming (graceful); the second aborts.
	stopCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-stopCtx.Done()
		if ctx.Err() != nil {
			return
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		select {
		case <-sig:
			cancel()
		case <-ctx.Done():
		}
	}()

	app := &app{stdin: stdin, stdout: stdout, stderr: stderr, environ: environ, stop: stopCtx, opts: opts}
	root := app.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	app.close()
	code := exitCode(err)
	if err != nil && !app.ran {
		code = exitUsage // cobra refused the command line before any command ran
	}
	if err != nil && code != exitOK {
		fmt.Fprintf(stderr, "oafetch: %v\n", err)
	}
	return code
}

// exitCode is the one switch from error to exit code.
func exitCode(err error) int {
	var (
		ue *usageError
		ce *ConfigError
		se *storeError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ce), isCobraUsage(err):
		return exitUsage
	case errors.Is(err, worker.ErrStopped), errors.Is(err, context.Canceled), errors.Is(err, errQueryPaused):
		return exitInterrupted
	case errors.As(err, &se), errors.Is(err, fulltext.ErrSchemaTooNew):
		return exitStore
	case errors.Is(err, errSLO), errors.Is(err, errVerify):
		return exitFailed
	}
	return exitFailed
}

func isCobraUsage(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

// flagError wraps cobra's flag parsing errors.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "oafetch",
		Short:         "Fetch the open-access full texts of scholarly works",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	pf := &profileFlags{}
	a.addProfileFlags(root, pf)
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		a.ran = true
		return a.startProfiles(pf)
	}
	root.AddCommand(
		a.pullCommand(), a.planCommand(), a.workCommand(), a.statusCommand(), a.exportCommand(),
		a.whyCommand(), a.retryCommand(), a.verifyCommand(), a.getCommand(),
		a.extractCommand(), a.hostsCommand(), a.demoCommand(), a.simCommand(), a.versionCommand(), a.reportCommand(),
	)
	return root
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "oafetch %s\n", version)
			return nil
		},
	}
}
