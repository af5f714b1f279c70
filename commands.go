package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/uptrace/bun"
	"golang.org/x/term"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/alertwatch"
	"github.com/smartfinance/riskgraph/internal/auth"
)

// alertsCommand is `riskgraph alerts`: it tails alertRaised from a running
// server as one JSON line per alert. token is RISKGRAPH_TOKEN, which -token overrides.
func alertsCommand(ctx context.Context, args []string, token string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("riskgraph alerts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("url", "http://localhost:8080/graphql", "the server's GraphQL endpoint")
	minLevel := fs.String("min-level", "MEDIUM", "the lowest level to print: LOW, MEDIUM or HIGH")
	count := fs.Int("count", 0, "exit after this many alerts (0: until Ctrl-C)")
	fs.StringVar(&token, "token", token, "an ANALYST's or ADMIN's access token (default $RISKGRAPH_TOKEN)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: RISKGRAPH_TOKEN=<access token> riskgraph alerts [flags]")
		fmt.Fprintln(stderr, "Prints each alert raised at or above -min-level as one JSON line, until Ctrl-C or -count alerts.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("alerts: %w", err)
	}
	level := strings.ToUpper(*minLevel)
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("alerts: unexpected argument %q", fs.Arg(0))
	case level != "LOW" && level != "MEDIUM" && level != "HIGH":
		return fmt.Errorf("alerts: -min-level %q: want LOW, MEDIUM or HIGH", *minLevel)
	case *count < 0:
		return fmt.Errorf("alerts: -count %d: want 0 or more", *count)
	case token == "":
		return errors.New("alerts: no access token: set RISKGRAPH_TOKEN (log in as an analyst) or pass -token")
	}
	if err := alertwatch.Watch(ctx, alertwatch.Options{URL: *endpoint, Token: token, MinLevel: level, Count: *count}, stdout); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	return nil
}

// resetPassword is `riskgraph reset-password <username>`, the way back in for
// whoever runs the server when a password is lost. The new password comes
// from stdin: typed at a terminal without echo (twice), or the first line of a
// pipe. It must meet the password policy; the user's sessions and failed
// logins end, and the audit log records the reset.
func resetPassword(ctx context.Context, cfg config, db *bun.DB, log *slog.Logger, args []string, stdin *os.File, stderr io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: riskgraph reset-password <username>   (the new password is read from stdin)")
		return errors.New("reset-password: want exactly one username")
	}
	username := args[0]
	password, err := readNewPassword(stdin, stderr, username)
	if err != nil {
		return fmt.Errorf("reset-password: %w", err)
	}
	if _, err := dbmigrate.Migrate(ctx, db); err != nil {
		return err
	}
	tokens, err := auth.NewTokens(cfg.JWTSecret, cfg.Now)
	if err != nil {
		return err
	}
	accounts, err := account.New(db, tokens, cfg.Now, log, account.Policy{HashConcurrency: 1})
	if err != nil {
		return err
	}
	changed, err := accounts.ResetPassword(ctx, username, password, "riskgraph reset-password")
	if err != nil {
		return commandError("reset-password", err)
	}
	if changed {
		fmt.Fprintf(stderr, "password of %s reset; its sessions have ended\n", username)
	} else {
		fmt.Fprintf(stderr, "%s already has that password; nothing changed\n", username)
	}
	return nil
}

// readNewPassword reads the password without echoing it at a terminal.
func readNewPassword(stdin *os.File, stderr io.Writer, username string) (string, error) {
	fd := int(stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", errors.New("no password on stdin (pipe it in, or run at a terminal to type it)")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	var typed [2]string
	for i, prompt := range []string{"new password for " + username + ": ", "again: "} {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		typed[i] = string(b)
	}
	if typed[0] != typed[1] {
		return "", errors.New("the two passwords differ")
	}
	return typed[0], nil
}
