package pubsub

import (
	"context"

	"github.com/google/uuid"
)

// SessionsChannel carries session changes. Nothing in Go sends on it: triggers
// on the users and sessions tables do (migration 20261206221500_session_notify),
// in the transaction that makes the change, so no code path can forget to.
const SessionsChannel = "riskgraph_sessions"

// SessionChange says that credentials behind live connections changed: one
// session was revoked or shortened, one API key was revoked, shortened
// (rotated) or deleted (APIKeyID, migration 20261207010000_api_keys), or
// (both unset) the user's role, status or password changed, which concerns
// every session and key of the user.
type SessionChange struct {
	UserID    int64     `json:"userId"`
	SessionID uuid.UUID `json:"sessionId"`
	APIKeyID  int64     `json:"apiKeyId,omitempty"`
}

// SessionHooks are what a Listener calls about sessions. Changed runs for each
// notification; Resync after every (re)connect, because changes made while
// nothing listened were not announced and must be looked up instead. Both run
// on the listener's goroutine, so notifications wait while they do.
type SessionHooks struct {
	Changed func(SessionChange)
	Resync  func(ctx context.Context)
}

// WatchSessions makes l report session changes to h. Call it before Run.
func (l *Listener) WatchSessions(h SessionHooks) { l.sessions = h }
