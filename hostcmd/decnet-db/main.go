// Command decnet-db is the operator's tool for DECNET's storage: it lists
// the backends built in, creates the schema and the admin user, diagnoses
// the configured backend, runs the conformance suite on it, ingests
// DECNET's collector output, queries the data, manages users, and moves
// every table between backends with export and import.
//
// It is the only code of the module that reads flags, prints, or exits.
// Every command is configured like the rest of DECNET, with the DECNET_*
// variables (flags > environment > config file > defaults); run
// `decnet-db --help` for the commands and the exit codes.
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(mainCode()) }

// mainCode runs the command line of the process with its streams and
// environment, and returns the exit code. The tests run it as the
// "decnet-db" program (see TestMain).
func mainCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default handling so that a
		// second one ends a command that does not stop.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ)
	stop()
	return code
}

// Exit codes of the command, documented in the root's help.
const (
	exitOK    = 0 // success
	exitFail  = 1 // the operation failed
	exitUsage = 2 // usage or configuration error
)

// run runs the command line args and returns the exit code. environ returns
// the environment as KEY=value strings (os.Environ in production; tests
// inject their own). An error is printed as one line on stderr,
// "decnet-db: <message>", with every password replaced by ***.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ func() []string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, environ: environ}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = errors.New("interrupted") // rather than "context canceled"
	}
	code := a.exitCode(err)
	msg := a.redact(err.Error())
	if code == exitUsage && a.isUsage(err) && cmd != nil {
		msg += "; see '" + cmd.CommandPath() + " --help'"
	}
	_, _ = io.WriteString(stderr, "decnet-db: "+oneLine(msg)+"\n")
	return code
}
