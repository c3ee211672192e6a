// Command aerie emulates neuromorphic chips, trains stochastic spiking networks
// for them and streams address events in and out.
//
// Usage:
//
//	aerie <command> [flags]
//
// Run "aerie help" for the list of commands. Each command lives in its own file
// (cmd_*.go) and registers itself with register in an init function, so the
// dispatcher below never changes when a command is added.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one sub-command of aerie.
type command struct {
	name    string
	summary string
	// run executes the command. args excludes the command name.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

// register adds a command; it panics on a duplicate name (a programming error).
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("aerie: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// usageError marks an error caused by the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program behind main: it returns the exit status
// (0 success, 1 failure, 2 usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		printUsage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "aerie: unknown command %q\n", name)
		printUsage(stderr)
		return 2
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	return exitCode(stderr, err)
}

func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "aerie: %v\n", err)
		return 2
	}
	if errors.Is(err, errFlagHelp) {
		return 0
	}
	if errors.Is(err, errFlagParse) {
		// the flag package has already printed the problem and the usage.
		return 2
	}
	fmt.Fprintf(stderr, "aerie: %v\n", err)
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: aerie <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'aerie <command> -h' for the flags of a command.")
}

var (
	errFlagHelp  = errors.New("help requested")
	errFlagParse = errors.New("bad flags")
)

// parseFlags parses args with fs (whose output goes to stderr) and maps the
// flag package's outcomes onto aerie's exit codes. Positional arguments are
// allowed before and after flags: "aerie inspect FILE --json" works.
func parseFlags(fs interface {
	Parse([]string) error
	Args() []string
	NArg() int
}, args []string) ([]string, error) {
	var positional []string
	for {
		err := fs.Parse(args)
		if err != nil {
			if strings.Contains(err.Error(), "help requested") {
				return nil, errFlagHelp
			}
			return nil, errFlagParse
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
