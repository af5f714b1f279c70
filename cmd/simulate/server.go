package main

import (
	"context"
	"crypto/rand"
	"os"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// ownServer is a release build of the server run as a child process against
// a database of its own, with the ADMIN it bootstraps.
type ownServer struct {
	*devserver.Own
	// The bootstrap ADMIN: random, the database is dropped afterwards.
	adminUser, adminPassword string
}

// startOwn creates a fresh database on the admin URL's server and starts the
// binary on it in production mode with the rule packs named, a bootstrap
// admin and login and registration throttles opened up for one busy client.
// Once the database exists it returns the server even with an error, so that
// the caller's stop ends whatever started and drops the database.
func startOwn(ctx context.Context, adminURL, binary, rulePacks string) (*ownServer, error) {
	s := &ownServer{adminUser: "sim-admin", adminPassword: rand.Text()}
	own, err := devserver.StartOwn(ctx, adminURL, "sim", devserver.Config{
		Binary: binary, AdminUsername: s.adminUser, AdminPassword: s.adminPassword,
		Env: []string{
			"RULE_PACKS=" + rulePacks,
			// Every login comes from this one loopback client.
			"LOGIN_RATE_PER_MINUTE=100000",
			"REGISTER_RATE_PER_MINUTE=100000",
		},
	})
	if own == nil {
		return nil, err
	}
	s.Own = own
	return s, err
}

// stop ends the server and drops the database unless keep, and with it the server's log.
func (s *ownServer) stop(keep bool) {
	if s.Close(keep) && s.Server != nil {
		os.Remove(s.Server.LogPath) //nolint:errcheck // a leftover temp file is harmless
	}
}
