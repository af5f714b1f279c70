package main

// The authorization matrix: every root field of the executable schema × every
// kind of caller, with the outcome DESIGN.md's "Roles" section calls for.
// The field list comes from the schema, so a new root field without a row
// fails the test instead of slipping past it.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/smartfinance/riskgraph/graph"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// The callers, in the order of a row's cells.
const (
	colAnon      = iota // no token
	colUser             // alice (USER) naming her own objects
	colUserOther        // alice naming bob's objects
	colVIP              // bob (VIP) naming his own objects
	colVIPOther         // bob naming alice's objects
	colAnalyst          // naming alice's objects
	colAdmin            // naming alice's objects
	colService          // naming alice's objects
	numCols
)

var colNames = [numCols]string{"anonymous", "USER", "USER-other", "VIP", "VIP-other", "ANALYST", "ADMIN", "SERVICE"}

// outcome is what a caller must get; the zero value is no expectation and fails the table check.
type outcome string

const (
	allow  outcome = "OK"              // no error, non-null data
	unauth outcome = "UNAUTHENTICATED" // no or bad credentials on a protected field
	forbid outcome = "FORBIDDEN"       // the caller's role is not one the field admits
	hidden outcome = "NOT_FOUND"       // object-level denial, answered exactly like a missing ID
	na     outcome = "n/a"             // the call names no one's object, so "own" and "other" are one call
)

type cells [numCols]outcome

// authzOp is one minimal valid call of a root field.
type authzOp struct {
	query string
	// vars builds the variables for a caller. It may create fresh objects, or
	// swap the caller for a fresh session of the same role, so state-changing
	// calls start from a known state and never spoil later cases.
	vars func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any)
	// idVar is the variable (dotted path) that names the object; a hidden answer
	// is compared with the answer to the same call naming a missing ID.
	idVar string
	// check asserts more about an allowed caller's value of the field.
	check func(t *testing.T, s *authzSuite, c authzCaller, v any)
}

// authzMatrix is the expected outcome of every root field for every caller,
// from DESIGN.md's roles: USER and VIP see and submit only their own data;
// ANALYST reads everything and handles events, alerts and devices; ADMIN also
// manages users, rules and data sources; SERVICE submits transactions for any
// customer and reads the results of what it submitted, nothing else (alice's
// own transactions are not its to read or label); register, login, refreshToken
// and logout are public. me and changePassword are a signed-in account's own
// identity and credentials rather than domain data, so every role keeps them;
// the audit log is administration, so ADMIN only. labelTransaction is newer
// than DESIGN.md: SERVICE keeps it for label feeds such as chargebacks, as
// detection_test.go relies on.
var authzMatrix = map[string]cells{
	//                           anonymous USER  USER-other VIP  VIP-other ANALYST ADMIN SERVICE
	"Query.me":             {unauth, allow, na, allow, na, allow, allow, allow},
	"Query.user":           {unauth, allow, hidden, allow, hidden, allow, allow, forbid},
	"Query.users":          {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.device":         {unauth, allow, hidden, allow, hidden, allow, allow, forbid},
	"Query.transaction":    {unauth, allow, hidden, allow, hidden, allow, allow, hidden},
	"Query.transactions":   {unauth, allow, allow, allow, allow, allow, allow, allow}, // filtered: another user's ID (or, for SERVICE, what it did not submit) lists nothing
	"Query.riskEvent":      {unauth, allow, hidden, allow, hidden, allow, allow, forbid},
	"Query.riskEvents":     {unauth, allow, allow, allow, allow, allow, allow, forbid}, // filtered likewise
	"Query.alert":          {unauth, allow, hidden, allow, hidden, allow, allow, forbid},
	"Query.alerts":         {unauth, allow, na, allow, na, allow, allow, forbid},
	"Query.rule":           {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.rules":          {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.models":         {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.model":          {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.riskEventStats": {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.riskTrend":      {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.systemStatus":   {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.dataSources":    {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.dataSource":     {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.dataQuality":    {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.auditLogs":      {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Query.backtestRule":   {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.lists":          {unauth, forbid, na, forbid, na, allow, allow, forbid}, // analysts maintain block and allow lists (issue 14)
	"Query.list":           {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Query.apiKeys":        {unauth, forbid, na, forbid, na, forbid, allow, forbid}, // API keys are administration (issue 15)

	//                               anonymous USER  USER-other VIP  VIP-other ANALYST ADMIN SERVICE
	"Mutation.register":          {allow, allow, na, allow, na, allow, allow, allow},
	"Mutation.login":             {allow, allow, na, allow, na, allow, allow, allow},
	"Mutation.refreshToken":      {allow, allow, na, allow, na, allow, allow, allow},
	"Mutation.logout":            {allow, allow, na, allow, na, allow, allow, allow},
	"Mutation.changePassword":    {unauth, allow, na, allow, na, allow, allow, allow},
	"Mutation.createUser":        {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.updateUserRole":    {unauth, forbid, forbid, forbid, forbid, forbid, allow, forbid},
	"Mutation.updateUserStatus":  {unauth, forbid, forbid, forbid, forbid, forbid, allow, forbid},
	"Mutation.setDeviceStatus":   {unauth, forbid, forbid, forbid, forbid, allow, allow, forbid},
	"Mutation.submitTransaction": {unauth, allow, hidden, allow, hidden, forbid, allow, allow}, // for any user: SERVICE and ADMIN (issue 3: "userId (SERVICE/ADMIN only)")

	// Bulk: the call is allowed where submitTransaction is; each item is then authorized as submitTransaction
	// is, so a customer naming another user gets that item's NOT_FOUND (opSubmitMany checks it), not the call's.
	"Mutation.submitTransactions": {unauth, allow, allow, allow, allow, forbid, allow, allow},

	"Mutation.recordLogin":       {unauth, forbid, forbid, forbid, forbid, forbid, allow, allow}, // identity providers' feed (issue 14): SERVICE, and ADMIN for backfills
	"Mutation.labelTransaction":  {unauth, forbid, forbid, forbid, forbid, allow, allow, hidden}, // SERVICE: feeds such as chargebacks, on what it submitted (authzTargetMatrix)
	"Mutation.handleRiskEvent":   {unauth, forbid, forbid, forbid, forbid, allow, allow, forbid},
	"Mutation.reviewTransaction": {unauth, forbid, forbid, forbid, forbid, allow, allow, forbid}, // analysts settle held payments; a payment system never approves its own
	"Mutation.handleAlert":       {unauth, forbid, forbid, forbid, forbid, allow, allow, forbid},
	"Mutation.upsertRule":        {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.setRuleEnabled":    {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.upsertList":        {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Mutation.addListEntries":    {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Mutation.removeListEntries": {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Mutation.importListEntries": {unauth, forbid, na, forbid, na, allow, allow, forbid},
	"Mutation.trainModel":        {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.activateModel":     {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.deactivateModel":   {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.createDataSource":  {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.updateDataSource":  {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.deleteDataSource":  {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.createApiKey":      {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.revokeApiKey":      {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	"Mutation.rotateApiKey":      {unauth, forbid, na, forbid, na, forbid, allow, forbid},

	//                               anonymous USER  USER-other VIP  VIP-other ANALYST ADMIN SERVICE
	"Subscription.alertRaised": {unauth, forbid, na, forbid, na, allow, allow, forbid}, // over a websocket
}

// authzOps is how each root field is called.
var authzOps = map[string]authzOp{
	"Query.me":             {query: `{ me { id } }`, check: isCaller},
	"Query.user":           byID(`query($id: ID!) { user(id: $id) { id } }`, userOf),
	"Query.users":          {query: `{ users(first: 100) { edges { node { id } } } }`, check: lists(userOf, "edges", "node", "id")},
	"Query.device":         byID(`query($id: ID!) { device(id: $id) { id } }`, deviceOf),
	"Query.transaction":    byID(`query($id: ID!) { transaction(id: $id) { id } }`, txOf),
	"Query.transactions":   byOwner(`query($u: ID!) { transactions(filter: {userId: $u}, first: 100) { edges { node { id } } } }`, txOf),
	"Query.riskEvent":      byID(`query($id: ID!) { riskEvent(id: $id) { id } }`, eventOf),
	"Query.riskEvents":     byOwner(`query($u: ID!) { riskEvents(filter: {userId: $u}, first: 100) { edges { node { id } } } }`, eventOf),
	"Query.alert":          byID(`query($id: ID!) { alert(id: $id) { id } }`, alertOf),
	"Query.alerts":         {query: `{ alerts(first: 100) { edges { node { id } } } }`, check: lists(alertOf, "edges", "node", "id")},
	"Query.rule":           {query: `query($id: ID!) { rule(id: $id) { id } }`, vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.rule} })},
	"Query.rules":          {query: `{ rules { id } }`},
	"Query.models":         {query: `{ models { totalCount } }`},
	"Query.model":          {query: `query($id: ID!) { model(id: $id) { id } }`, vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.model} })},
	"Query.riskEventStats": {query: `query($from: Time!, $to: Time!) { riskEventStats(from: $from, to: $to) { total } }`, vars: fixed(window)},
	"Query.riskTrend":      {query: `query($from: Time!, $to: Time!) { riskTrend(from: $from, to: $to, bucket: HOUR) { bucketStart } }`, vars: fixed(window)},
	"Query.systemStatus":   {query: `{ systemStatus { version } }`},
	"Query.dataSources":    {query: `{ dataSources { id } }`},
	"Query.dataSource":     {query: `query($id: ID!) { dataSource(id: $id) { id } }`, vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.source} })},
	"Query.dataQuality":    {query: `{ dataQuality { completeness { total } } }`},
	"Query.auditLogs":      {query: `{ auditLogs(first: 1) { totalCount } }`},
	"Query.lists":          {query: `{ lists { id name } }`},
	"Query.list":           {query: `query($id: ID!) { list(id: $id) { id csv entries(first: 1) { totalCount } } }`, vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.list} })},
	"Query.apiKeys":        {query: `{ apiKeys(first: 1) { totalCount } }`},
	"Query.backtestRule": {query: `query($in: BacktestInput!) { backtestRule(input: $in) { evaluated } }`, vars: fixed(func(s *authzSuite) map[string]any {
		in := window(s)
		in["condition"] = "amount >= 10000"
		return map[string]any{"in": in}
	})},

	"Mutation.register":          opRegister,
	"Mutation.login":             opLogin,
	"Mutation.refreshToken":      opRefresh,
	"Mutation.logout":            opLogout,
	"Mutation.changePassword":    opChangePassword,
	"Mutation.createUser":        opCreateUser,
	"Mutation.updateUserRole":    opUpdateUserRole,
	"Mutation.updateUserStatus":  opUpdateUserStatus,
	"Mutation.setDeviceStatus":   opSetDeviceStatus,
	"Mutation.submitTransaction": opSubmit,

	"Mutation.submitTransactions": opSubmitMany,

	"Mutation.recordLogin":       opRecordLogin,
	"Mutation.labelTransaction":  opLabelTransaction,
	"Mutation.handleRiskEvent":   opHandleRiskEvent,
	"Mutation.reviewTransaction": opReviewTransaction,
	"Mutation.handleAlert":       opHandleAlert,
	"Mutation.upsertRule":        opUpsertRule,
	"Mutation.setRuleEnabled":    opSetRuleEnabled,
	"Mutation.upsertList": {query: `mutation($in: ListInput!) { upsertList(input: $in) { kind } }`, vars: func(_ *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
		return c, map[string]any{"in": map[string]any{"name": s.name("list"), "kind": "EMAIL", "mode": "BLOCK"}}
	}},
	"Mutation.addListEntries": {query: `mutation($id: ID!, $v: String!) { addListEntries(listId: $id, entries: [{value: $v}]) { id } }`, vars: func(_ *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
		return c, map[string]any{"id": s.list, "v": fmt.Sprintf("192.0.2.%d", s.seq.Add(1)%250)}
	}},
	"Mutation.removeListEntries": {query: `mutation($id: ID!) { removeListEntries(listId: $id, values: ["192.0.2.1"]) { id } }`, vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.list} })},
	"Mutation.importListEntries": {query: `mutation($id: ID!) { importListEntries(listId: $id, csv: "value\n198.51.100.1\n") { id } }`, vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.list} })},
	"Mutation.trainModel":        {query: `mutation { trainModel { id } }`},
	"Mutation.activateModel":     opActivateModel,
	"Mutation.deactivateModel":   {query: `mutation($id: ID!) { deactivateModel(id: $id) { active } }`, vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.model} })},
	"Mutation.createDataSource":  opCreateDataSource,
	"Mutation.updateDataSource":  opUpdateDataSource,
	"Mutation.deleteDataSource":  opDeleteDataSource,
	"Mutation.createApiKey": {query: `mutation($u: ID!) { createApiKey(input: {userId: $u, name: "matrix", scopes: ["results:read"]}) { apiKey { scopes } } }`,
		vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"u": s.gate.User.ID} })},
	"Mutation.revokeApiKey": {query: `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, vars: withNewAPIKey},
	"Mutation.rotateApiKey": {query: `mutation($id: ID!) { rotateApiKey(id: $id) { apiKey { id } } }`, vars: withNewAPIKey},

	"Subscription.alertRaised": {query: `subscription { alertRaised(minLevel: MEDIUM) { id level } }`},
}

const authzPassword = "correct horse battery" // e.user's password

var (
	opRegister = authzOp{
		query: `mutation($in: RegisterInput!) { register(input: $in) { user { role } } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			return c, map[string]any{"in": map[string]any{"username": s.name("reg"), "password": authzPassword}}
		},
		check: field("RegisterInput creates USER", []string{"user", "role"}, "USER"),
	}
	opLogin = authzOp{
		query: `mutation($in: LoginInput!) { login(input: $in) { user { username } } }`,
		vars: fixed(func(s *authzSuite) map[string]any {
			return map[string]any{"in": map[string]any{"username": s.loginUser, "password": authzPassword}}
		}),
		check: func(t *testing.T, s *authzSuite, c authzCaller, v any) {
			field("logged in user", []string{"user", "username"}, s.loginUser)(t, s, c, v)
		},
	}
	// Refresh tokens are single use: each call rotates the suite's chain.
	opRefresh = authzOp{
		query: `mutation($t: String!) { refreshToken(refreshToken: $t) { refreshToken } }`,
		vars:  fixed(func(s *authzSuite) map[string]any { return map[string]any{"t": s.chain} }),
		check: func(t *testing.T, s *authzSuite, c authzCaller, v any) {
			next := pluck(v, "refreshToken")
			if len(next) != 1 || next[0] == "" || next[0] == s.chain {
				t.Fatalf("%s: got %v, want a new refresh token", c.label, next)
			}
			s.chain = next[0]
		},
	}
	// A signed-in caller ends its own (fresh) session; an anonymous one names a session by its refresh token.
	opLogout = authzOp{
		query: `mutation($t: String) { logout(refreshToken: $t) }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			if c.role == "" {
				sess := s.e.user(t, s.name("out"), domain.RoleUser)
				c.fresh = &sess
				return c, map[string]any{"t": sess.RefreshToken}
			}
			c = s.freshSession(t, c)
			return c, map[string]any{"t": nil}
		},
		check: func(t *testing.T, s *authzSuite, c authzCaller, v any) {
			if v != true {
				t.Fatalf("%s: got %v, want true", c.label, v)
			}
			if got := s.e.post(t, c.fresh.AccessToken, `{ me { id } }`, nil).code(); got != "UNAUTHENTICATED" {
				t.Fatalf("%s: the session after logout: got %q, want UNAUTHENTICATED", c.label, got)
			}
		},
	}
	opChangePassword = authzOp{
		query: `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			c = s.freshSession(t, c)
			return c, map[string]any{"in": map[string]any{"oldPassword": authzPassword, "newPassword": "another horse battery"}}
		},
		check: isTrue,
	}
	opCreateUser = authzOp{
		query: `mutation($in: CreateUserInput!) { createUser(input: $in) { role } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			return c, map[string]any{"in": map[string]any{"username": s.name("new"), "password": authzPassword, "role": "USER"}}
		},
		check: field("created role", []string{"role"}, "USER"),
	}
	// Customers try to make themselves ADMIN; everyone else promotes a throwaway user.
	opUpdateUserRole = authzOp{
		query: `mutation($id: ID!, $role: Role!) { updateUserRole(id: $id, role: $role) { role } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			if c.own {
				return c, map[string]any{"id": c.self, "role": "ADMIN"}
			}
			return c, map[string]any{"id": s.newUser(t), "role": "VIP"}
		},
		check: field("new role", []string{"role"}, "VIP"),
	}
	// Customers try to (re)activate themselves; everyone else freezes a throwaway user.
	opUpdateUserStatus = authzOp{
		query: `mutation($id: ID!, $status: UserStatus!) { updateUserStatus(id: $id, status: $status) { status } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			if c.own {
				return c, map[string]any{"id": c.self, "status": "ACTIVE"}
			}
			return c, map[string]any{"id": s.newUser(t), "status": "FROZEN"}
		},
		check: field("new status", []string{"status"}, "FROZEN"),
	}
	opSetDeviceStatus = authzOp{
		query: `mutation($id: ID!) { setDeviceStatus(id: $id, status: ABNORMAL, reason: "authorization matrix") { status } }`,
		vars:  on("id", deviceOf),
		check: field("device status", []string{"status"}, "ABNORMAL"),
	}
	opSubmit = authzOp{
		query: `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { transaction { userId } } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			return c, map[string]any{"in": map[string]any{"userId": c.on.user, "amount": "10.00"}}
		},
		idVar: "in.userId",
		check: func(t *testing.T, s *authzSuite, c authzCaller, v any) {
			field("transaction owner", []string{"transaction", "userId"}, c.on.user)(t, s, c, v)
		},
	}
	opSubmitMany = authzOp{
		query: `mutation($in: [SubmitTransactionInput!]!) { submitTransactions(inputs: $in) { error { code } payload { transaction { userId } } } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			return c, map[string]any{"in": []any{map[string]any{"userId": c.on.user, "amount": "10.00"}}}
		},
		check: func(t *testing.T, s *authzSuite, c authzCaller, v any) {
			if c.role.Customer() && !c.own {
				field("the item's error", []string{"error", "code"}, "NOT_FOUND")(t, s, c, v)
				return
			}
			field("transaction owner", []string{"payload", "transaction", "userId"}, c.on.user)(t, s, c, v)
		},
	}
	opRecordLogin = authzOp{
		query: `mutation($in: RecordLoginInput!) { recordLogin(input: $in) { success detection { riskLevel } } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			return c, map[string]any{"in": map[string]any{"userId": c.on.user, "ipAddress": "203.0.113.7"}}
		},
		idVar: "in.userId",
		check: field("recorded login", []string{"success"}, true),
	}
	opLabelTransaction = authzOp{
		query: `mutation($id: ID!) { labelTransaction(id: $id, label: LEGITIMATE) { label } }`,
		vars:  on("id", txOf),
		idVar: "id",
		check: field("label", []string{"label"}, "LEGITIMATE"),
	}
	opHandleRiskEvent = authzOp{
		query: `mutation($id: ID!) { handleRiskEvent(id: $id, input: {action: COMMENT, note: "authorization matrix"}) { id } }`,
		vars:  on("id", eventOf),
		check: hasID(eventOf),
	}
	// A review is once, so every caller the role admits gets a fresh held
	// payment on a throwaway user; the others name the fixture's transaction.
	opReviewTransaction = authzOp{
		query: `mutation($id: ID!) { reviewTransaction(id: $id, input: {decision: APPROVE}) { status } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			if !c.role.Staff() {
				return c, map[string]any{"id": c.on.tx}
			}
			return c, map[string]any{"id": s.heldPayment(t, s.newUser(t))}
		},
		check: field("transaction status", []string{"status"}, "APPROVED"),
	}
	// Acknowledging is one-way, so every call gets a fresh alert: a customer's
	// own or other user's, anyone else's on a throwaway user.
	opHandleAlert = authzOp{
		query: `mutation($id: ID!) { handleAlert(id: $id, input: {action: ACKNOWLEDGE}) { status } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			owner := c.on.user
			if !c.role.Customer() {
				owner = s.newUser(t)
			}
			return c, map[string]any{"id": s.raiseAlert(t, owner)}
		},
		check: field("alert status", []string{"status"}, "ACKNOWLEDGED"),
	}
	// A disabled rule that could never match, so scoring elsewhere is untouched.
	opUpsertRule = authzOp{
		query: `mutation($in: RuleInput!) { upsertRule(input: $in) { enabled } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			return c, map[string]any{"in": map[string]any{"name": s.name("rule"), "condition": "amount > 999999999999", "score": 1, "enabled": false}}
		},
		check: field("rule enabled", []string{"enabled"}, false),
	}
	opSetRuleEnabled = authzOp{
		query: `mutation($id: ID!) { setRuleEnabled(id: $id, enabled: false) { enabled } }`,
		vars:  fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.rule} }),
		check: field("rule enabled", []string{"enabled"}, false),
	}
	// Activated, then at once deactivated, so no model scores the other cases.
	opActivateModel = authzOp{
		query: `mutation($id: ID!) { activateModel(id: $id) { active } }`,
		vars:  fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.model} }),
		check: func(t *testing.T, s *authzSuite, _ authzCaller, v any) {
			t.Helper()
			field("model active", []string{"active"}, true)(t, s, authzCaller{}, v)
			s.e.must(t, s.admin.AccessToken, `mutation($id: ID!) { deactivateModel(id: $id) { active } }`, map[string]any{"id": s.model}, nil)
		},
	}
	opCreateDataSource = authzOp{
		query: `mutation($in: DataSourceInput!) { createDataSource(input: $in) { id } }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			return c, map[string]any{"in": map[string]any{"name": s.name("src"), "kind": "API"}}
		},
	}
	opUpdateDataSource = authzOp{
		query: `mutation($id: ID!) { updateDataSource(id: $id, input: {description: "authorization matrix"}) { description } }`,
		vars:  fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.source} }),
		check: field("description", []string{"description"}, "authorization matrix"),
	}
	opDeleteDataSource = authzOp{
		query: `mutation($id: ID!) { deleteDataSource(id: $id) }`,
		vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
			return c, map[string]any{"id": s.newSource(t)}
		},
		check: isTrue,
	}
)

// authzOwner is a user and the objects the suite created for them.
type authzOwner struct{ user, tx, event, alert, device string }

func userOf(o authzOwner) string   { return o.user }
func txOf(o authzOwner) string     { return o.tx }
func eventOf(o authzOwner) string  { return o.event }
func alertOf(o authzOwner) string  { return o.alert }
func deviceOf(o authzOwner) string { return o.device }

// authzCaller is one cell's caller.
type authzCaller struct {
	col   int
	role  domain.Role // "" when anonymous
	token string
	self  string      // the caller's user ID
	on    *authzOwner // whose objects the call names
	own   bool        // on is the caller (the customer columns without "other")
	fresh *session    // a session opened for this call only
	label string      // "Query.user/USER-other", for messages
}

// authzSuite is one server with fixtures shared by every cell.
type authzSuite struct {
	e                                  *testEnv
	aliceS, bobS, analyst, admin, gate session
	alice, bob                         authzOwner
	rule, source, loginUser, chain     string
	list                               string // an IP list no rule reads
	model                              string
	seq                                atomic.Int64
	// anomalyModel is trained on the fixtures' traffic (anomaly_test.go).
	anomalyModel string
	// webhookEndpoint (disabled) and its DELIVERED webhookDelivery (authz_webhook_test.go).
	webhookEndpoint, webhookDelivery string
}

func newAuthzSuite(t *testing.T) *authzSuite {
	e := newEnv(t)
	s := &authzSuite{e: e}
	s.aliceS = e.user(t, "alice", domain.RoleUser)
	s.bobS = e.user(t, "bob", domain.RoleVIP)
	s.analyst = e.user(t, "ana", domain.RoleAnalyst)
	s.admin = e.user(t, "root", domain.RoleAdmin)
	s.gate = e.user(t, "gateway", domain.RoleService)
	s.alice = s.owner(t, s.aliceS, "fp-alice")
	s.bob = s.owner(t, s.bobS, "fp-bob")

	var rule struct{ UpsertRule struct{ ID string } }
	e.must(t, s.admin.AccessToken, `mutation { upsertRule(input: {name: "authz fixture", condition: "amount > 999999999999", score: 1, enabled: false}) { id } }`, nil, &rule)
	s.rule = rule.UpsertRule.ID
	e.must(t, s.admin.AccessToken, `mutation { upsertRule(input: {name: "authz hold", condition: "merchant == \"authz-hold\"", score: 65}) { id } }`, nil, nil)
	s.source = s.newSource(t)
	var list struct{ UpsertList struct{ ID string } }
	e.must(t, s.admin.AccessToken, `mutation { upsertList(input: {name: "authz_ips", kind: IP, mode: BLOCK}) { id } }`, nil, &list)
	s.list = list.UpsertList.ID
	s.model = s.trainedModel(t)
	s.anomalyModel = s.trainedAnomalyModel(t)
	s.webhookEndpoint, s.webhookDelivery = s.deliveredWebhook(t)
	s.loginUser = "login-target"
	e.user(t, s.loginUser, domain.RoleUser)
	s.chain = e.user(t, "refresher", domain.RoleUser).RefreshToken
	return s
}

// owner submits a 12000 transaction as the user (a MEDIUM risk event and alert) from a new device.
func (s *authzSuite) owner(t *testing.T, sess session, fingerprint string) authzOwner {
	t.Helper()
	res := s.e.submit(t, sess.AccessToken, map[string]any{"amount": "12000", "deviceId": fingerprint})
	if res.RiskEvent == nil || res.Alert == nil {
		t.Fatalf("fixture for %s: got event %v alert %v, want both", sess.User.Username, res.RiskEvent, res.Alert)
	}
	var tx struct {
		Transaction struct{ Device struct{ ID string } }
	}
	s.e.must(t, s.analyst.AccessToken, `query($id: ID!) { transaction(id: $id) { device { id } } }`, map[string]any{"id": res.Transaction.ID}, &tx)
	return authzOwner{user: sess.User.ID, tx: res.Transaction.ID, event: res.RiskEvent.ID, alert: res.Alert.ID, device: tx.Transaction.Device.ID}
}

func (s *authzSuite) caller(col int) authzCaller {
	c := authzCaller{col: col, on: &s.alice}
	set := func(role domain.Role, sess session) {
		c.role, c.token, c.self = role, sess.AccessToken, sess.User.ID
	}
	switch col {
	case colUser:
		set(domain.RoleUser, s.aliceS)
		c.own = true
	case colUserOther:
		set(domain.RoleUser, s.aliceS)
		c.on = &s.bob
	case colVIP:
		set(domain.RoleVIP, s.bobS)
		c.on, c.own = &s.bob, true
	case colVIPOther:
		set(domain.RoleVIP, s.bobS)
	case colAnalyst:
		set(domain.RoleAnalyst, s.analyst)
	case colAdmin:
		set(domain.RoleAdmin, s.admin)
	case colService:
		set(domain.RoleService, s.gate)
	}
	return c
}

// stranger is, for a customer, the other customer, whose objects must never show.
func (s *authzSuite) stranger(c authzCaller) *authzOwner {
	switch c.self {
	case s.alice.user:
		return &s.bob
	case s.bob.user:
		return &s.alice
	}
	return nil
}

func (s *authzSuite) name(prefix string) string {
	return fmt.Sprintf("authz-%s-%d", prefix, s.seq.Add(1))
}

// freshSession swaps a signed-in caller for a new user of the same role with its own session.
func (s *authzSuite) freshSession(t *testing.T, c authzCaller) authzCaller {
	t.Helper()
	if c.role == "" {
		return c
	}
	sess := s.e.user(t, s.name("as"), c.role)
	c.token, c.self, c.fresh = sess.AccessToken, sess.User.ID, &sess
	return c
}

// newUser creates a throwaway USER (as the admin) and returns its ID.
func (s *authzSuite) newUser(t *testing.T) string {
	t.Helper()
	var out struct{ CreateUser struct{ ID string } }
	s.e.must(t, s.admin.AccessToken, `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": s.name("user"), "password": authzPassword, "role": "USER"}}, &out)
	return out.CreateUser.ID
}

func (s *authzSuite) newSource(t *testing.T) string {
	t.Helper()
	var out struct{ CreateDataSource struct{ ID string } }
	s.e.must(t, s.admin.AccessToken, `mutation($in: DataSourceInput!) { createDataSource(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": s.name("src"), "kind": "API", "config": map[string]any{"url": "https://feed.example", "apiKey": "s3cret"}}}, &out)
	return out.CreateDataSource.ID
}

// trainedModel labels a small history (12 fraud, 12 legitimate) and trains an inactive model on it.
func (s *authzSuite) trainedModel(t *testing.T) string {
	t.Helper()
	u := s.e.user(t, "labelled", domain.RoleUser)
	for i := range 24 {
		s.e.submit(t, s.gate.AccessToken, map[string]any{"userId": u.User.ID, "amount": fmt.Sprint(10 + i*500)})
	}
	if _, err := s.e.db.ExecContext(context.Background(), `INSERT INTO transaction_labels (user_id, transaction_id, label, source)
		SELECT user_id, id, CASE WHEN amount > 6000 THEN 'FRAUD' ELSE 'LEGITIMATE' END, 'TEST' FROM transactions WHERE user_id = ?`, u.User.ID); err != nil {
		t.Fatal(err)
	}
	var out struct{ TrainModel struct{ ID string } }
	s.e.must(t, s.admin.AccessToken, `mutation { trainModel { id } }`, nil, &out)
	return out.TrainModel.ID
}

// heldPayment has the admin submit a payment for userID that the suite's
// "authz hold" rule (score 65) holds for review, and returns its ID.
func (s *authzSuite) heldPayment(t *testing.T, userID string) string {
	t.Helper()
	res := s.e.submit(t, s.admin.AccessToken, map[string]any{"userId": userID, "amount": "120.00", "merchantId": "authz-hold"})
	if res.Transaction.Status != "PENDING_REVIEW" {
		t.Fatalf("a held payment: got %s, want PENDING_REVIEW", res.Transaction.Status)
	}
	return res.Transaction.ID
}

// raiseAlert has the admin submit a 12000 transaction for userID and returns its (MEDIUM or HIGH) alert.
func (s *authzSuite) raiseAlert(t *testing.T, userID string) string {
	t.Helper()
	res := s.e.submit(t, s.admin.AccessToken, map[string]any{"userId": userID, "amount": "12000"})
	if res.Alert == nil {
		t.Fatalf("a 12000 transaction raised no alert: %+v", res.Detection)
	}
	return res.Alert.ID
}

func TestAuthorizationMatrix(t *testing.T) {
	fields := schemaRootFields()
	t.Run("complete", func(t *testing.T) {
		for _, f := range fields {
			op, ok := authzOps[f]
			if !ok {
				t.Errorf("%s: the schema has it, authzOps has no way to call it", f)
			}
			want, ok := authzMatrix[f]
			if !ok {
				t.Errorf("%s: the schema has it, the matrix has no row", f)
				continue
			}
			for col, w := range want {
				if w == "" {
					t.Errorf("%s/%s: no expectation", f, colNames[col])
				}
				if w == hidden && op.idVar == "" {
					t.Errorf("%s/%s: NOT_FOUND needs the op's idVar to compare with a missing ID", f, colNames[col])
				}
			}
		}
		for f := range authzMatrix {
			if !slices.Contains(fields, f) {
				t.Errorf("%s: the matrix has a row, the schema has no such field", f)
			}
		}
		for f := range authzOps {
			if !slices.Contains(fields, f) {
				t.Errorf("%s: authzOps calls it, the schema has no such field", f)
			}
		}
	})

	s := newAuthzSuite(t)
	run := func(t *testing.T, kind string, parallel bool) {
		for _, key := range fields {
			want, ok := authzMatrix[key]
			op, hasOp := authzOps[key]
			if !ok || !hasOp || !strings.HasPrefix(key, kind+".") {
				continue // reported by "complete"
			}
			t.Run(key, func(t *testing.T) {
				if parallel {
					t.Parallel()
				}
				for col, w := range want {
					if w == na || w == "" {
						continue
					}
					t.Run(colNames[col], func(t *testing.T) {
						c := s.caller(col)
						c.label = key + "/" + colNames[col]
						if kind == "Subscription" {
							s.checkSubscription(t, op, c, w)
							return
						}
						s.check(t, key, op, c, w)
					})
				}
			})
		}
	}
	// Queries change nothing and run in parallel; mutations and subscriptions one at a time.
	t.Run("Query", func(t *testing.T) { run(t, "Query", true) })
	t.Run("Mutation", func(t *testing.T) { run(t, "Mutation", false) })
	t.Run("Subscription", func(t *testing.T) { run(t, "Subscription", false) })
}

// schemaRootFields lists Query, Mutation and Subscription fields of the executable schema, in schema order.
func schemaRootFields() []string {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	var keys []string
	for _, def := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		if def == nil {
			continue
		}
		for _, f := range def.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				keys = append(keys, def.Name+"."+f.Name)
			}
		}
	}
	return keys
}

// check runs one cell over HTTP.
func (s *authzSuite) check(t *testing.T, key string, op authzOp, c authzCaller, want outcome) {
	field := key[strings.IndexByte(key, '.')+1:]
	var vars map[string]any
	if op.vars != nil {
		c, vars = op.vars(t, s, c)
	}
	res := s.e.post(t, c.token, op.query, vars)
	got := result(res)
	if outcome(res.code()) != want && !(want == allow && len(res.Errors) == 0) {
		t.Fatalf("%s: got %s, want %s", c.label, got, want)
	}
	value := dataField(t, res, field)
	if want == allow {
		if len(res.Errors) > 0 || value == nil {
			t.Fatalf("%s: got %s with data %s, want OK with data", c.label, got, res.Data)
		}
		if op.check != nil {
			op.check(t, s, c, value)
		}
		return
	}
	if value != nil {
		t.Fatalf("%s: got %s with data %s, want null", c.label, got, res.Data)
	}
	if want == hidden {
		missing := s.e.post(t, c.token, op.query, withVar(vars, op.idVar, "999999999"))
		if result(missing) != got || dataField(t, missing, field) != nil {
			t.Fatalf("%s: denial %s differs from a missing ID's answer %s (data %s)", c.label, got, result(missing), missing.Data)
		}
	}
}

// result sums up a response as "OK" or its first error's code and message.
func result(res gqlResponse) string {
	if len(res.Errors) == 0 {
		return string(allow)
	}
	return fmt.Sprintf("%s (%q)", res.code(), res.Errors[0].Message)
}

// dataField is data.<field>, nil when data or the field is null.
func dataField(t *testing.T, res gqlResponse, field string) any {
	t.Helper()
	var data map[string]any
	if len(res.Data) > 0 {
		if err := json.Unmarshal(res.Data, &data); err != nil {
			t.Fatalf("decode data %s: %v", res.Data, err)
		}
	}
	return data[field]
}

// withVar copies vars with the dotted path set to v.
func withVar(vars map[string]any, path string, v any) map[string]any {
	raw, _ := json.Marshal(vars)
	var out map[string]any
	json.Unmarshal(raw, &out) //nolint:errcheck // round trip of our own map
	m := out
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	m[keys[len(keys)-1]] = v
	return out
}

// pluck walks v along keys, through arrays, and returns the scalars it reaches.
func pluck(v any, keys ...string) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, el := range x {
			out = append(out, pluck(el, keys...)...)
		}
		return out
	case map[string]any:
		if len(keys) > 0 {
			return pluck(x[keys[0]], keys[1:]...)
		}
	case nil:
	default:
		if len(keys) == 0 {
			return []string{fmt.Sprint(x)}
		}
	}
	return nil
}

// byID calls a single-object query naming the caller's target object; an allowed caller gets that object.
func byID(query string, pick func(authzOwner) string) authzOp {
	return authzOp{query: query, vars: on("id", pick), idVar: "id", check: hasID(pick)}
}

// byOwner lists the target user's objects through a userId filter.
func byOwner(query string, pick func(authzOwner) string) authzOp {
	return authzOp{query: query, vars: on("u", userOf), check: lists(pick, "edges", "node", "id")}
}

func on(name string, pick func(authzOwner) string) func(*testing.T, *authzSuite, authzCaller) (authzCaller, map[string]any) {
	return func(_ *testing.T, _ *authzSuite, c authzCaller) (authzCaller, map[string]any) {
		return c, map[string]any{name: pick(*c.on)}
	}
}

// withNewAPIKey names a fresh key of the gateway, so revoking or rotating it spoils nothing.
func withNewAPIKey(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
	var out struct {
		CreateAPIKey struct{ APIKey struct{ ID string } } `json:"createApiKey"`
	}
	s.e.must(t, s.admin.AccessToken, `mutation($u: ID!) { createApiKey(input: {userId: $u, name: "matrix", scopes: ["results:read"]}) { apiKey { id } } }`,
		map[string]any{"u": s.gate.User.ID}, &out)
	return c, map[string]any{"id": out.CreateAPIKey.APIKey.ID}
}

func fixed(vars func(s *authzSuite) map[string]any) func(*testing.T, *authzSuite, authzCaller) (authzCaller, map[string]any) {
	return func(_ *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) { return c, vars(s) }
}

func window(s *authzSuite) map[string]any {
	now := s.e.clock.Now()
	return map[string]any{"from": now.Add(-time.Hour), "to": now.Add(time.Hour)}
}

func hasID(pick func(authzOwner) string) func(*testing.T, *authzSuite, authzCaller, any) {
	return func(t *testing.T, s *authzSuite, c authzCaller, v any) {
		field("id", []string{"id"}, pick(*c.on))(t, s, c, v)
	}
}

func isCaller(t *testing.T, s *authzSuite, c authzCaller, v any) {
	field("me", []string{"id"}, c.self)(t, s, c, v)
}

func isTrue(t *testing.T, _ *authzSuite, c authzCaller, v any) {
	if v != true {
		t.Fatalf("%s: got %v, want true", c.label, v)
	}
}

func field(what string, path []string, want any) func(*testing.T, *authzSuite, authzCaller, any) {
	return func(t *testing.T, _ *authzSuite, c authzCaller, v any) {
		t.Helper()
		if got := pluck(v, path...); len(got) != 1 || got[0] != fmt.Sprint(want) {
			t.Fatalf("%s: %s: got %v, want %v", c.label, what, got, want)
		}
	}
}

// lists checks an allowed listing: it shows the target's object when the caller
// may see it and never shows it otherwise, and never shows a customer the other
// customer's object.
func lists(pick func(authzOwner) string, path ...string) func(*testing.T, *authzSuite, authzCaller, any) {
	return func(t *testing.T, s *authzSuite, c authzCaller, v any) {
		t.Helper()
		ids := pluck(v, path...)
		target := pick(*c.on)
		mayRead := c.own || c.role.Staff() // the fixtures are the customers' own submissions, not SERVICE's
		if got := slices.Contains(ids, target); got != mayRead {
			t.Fatalf("%s: listing %v shows the named user's %s: got %v, want %v", c.label, ids, target, got, mayRead)
		}
		if other := s.stranger(c); other != nil && slices.Contains(ids, pick(*other)) {
			t.Fatalf("%s: listing %v leaks the other customer's %s", c.label, ids, pick(*other))
		}
	}
}

// checkSubscription runs one alertRaised cell over a real graphql-transport-ws
// websocket: a denied caller gets an error with the code; an allowed one a
// subscription that stays open and delivers the next alert.
func (s *authzSuite) checkSubscription(t *testing.T, op authzOp, c authzCaller, want outcome) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Earlier cells' subscriptions must be gone, so the count below is ours.
	for s.e.app.hub.Subscribers() != 0 {
		if ctx.Err() != nil {
			t.Fatalf("earlier subscriptions still open: %d", s.e.app.hub.Subscribers())
		}
		time.Sleep(10 * time.Millisecond)
	}
	url := "ws" + strings.TrimPrefix(s.e.srv.URL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close(websocket.StatusNormalClosure, "")
	init := json.RawMessage(`{}`)
	if c.token != "" {
		init, _ = json.Marshal(map[string]string{"Authorization": "Bearer " + c.token})
	}
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		t.Fatalf("connection_init: %v", err)
	}
	msgs := make(chan wsMessage, 16)
	go func() {
		defer close(msgs)
		for {
			var m wsMessage
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				return
			}
			switch m.Type {
			case "ping":
				wsjson.Write(ctx, conn, wsMessage{Type: "pong"}) //nolint:errcheck // a lost pong only ends the connection
			case "pong", "ka":
			default:
				select {
				case msgs <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	next := func(what string) wsMessage {
		t.Helper()
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("%s: connection closed while waiting for %s", c.label, what)
			}
			return m
		case <-ctx.Done():
			t.Fatalf("%s: no %s before the deadline", c.label, what)
		}
		return wsMessage{}
	}
	if m := next("connection_ack"); m.Type != "connection_ack" {
		t.Fatalf("%s: after connection_init got %s %s, want connection_ack", c.label, m.Type, m.Payload)
	}
	payload, _ := json.Marshal(map[string]string{"query": op.query})
	if err := wsjson.Write(ctx, conn, wsMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}

	if want != allow {
		m := next("an error")
		res := wsResult(t, m)
		if m.ID != "1" || (m.Type != "error" && m.Type != "next") || outcome(res.code()) != want {
			t.Fatalf("%s: got %s %s, want %s", c.label, m.Type, result(res), want)
		}
		if dataField(t, res, "alertRaised") != nil {
			t.Fatalf("%s: denied but got data %s", c.label, res.Data)
		}
		return
	}

	// Allowed: no error may arrive while the subscription registers, and the next alert must.
	for s.e.app.hub.Subscribers() == 0 {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("%s: connection closed, want OK", c.label)
			}
			t.Fatalf("%s: got %s %s, want OK", c.label, m.Type, result(wsResult(t, m)))
		case <-ctx.Done():
			t.Fatalf("%s: subscription never registered", c.label)
		case <-time.After(10 * time.Millisecond):
		}
	}
	alertID := s.raiseAlert(t, s.newUser(t))
	for {
		m := next("alert " + alertID)
		res := wsResult(t, m)
		if m.Type != "next" || len(res.Errors) > 0 {
			t.Fatalf("%s: got %s %s, want OK", c.label, m.Type, result(res))
		}
		if got := pluck(dataField(t, res, "alertRaised"), "id"); slices.Contains(got, alertID) {
			return
		}
	}
}

// wsResult reads a next or error message's payload as a GraphQL response.
func wsResult(t *testing.T, m wsMessage) gqlResponse {
	t.Helper()
	var res gqlResponse
	switch m.Type {
	case "next":
		if err := json.Unmarshal(m.Payload, &res); err != nil {
			t.Fatalf("decode next payload %s: %v", m.Payload, err)
		}
	case "error":
		if err := json.Unmarshal(m.Payload, &res.Errors); err != nil {
			t.Fatalf("decode error payload %s: %v", m.Payload, err)
		}
	}
	return res
}

// The target matrix: mutations that act on an account, by the role of the
// account acted on (or of the role granted). No role acts on an account of an
// equal or higher role, or grants such a role; case actions (freezing a user,
// blacklisting their device) reach customers only; payments are customers'
// only; and a label's source follows its author's role.

var targetRoles = []domain.Role{domain.RoleUser, domain.RoleVIP, domain.RoleService, domain.RoleAnalyst, domain.RoleAdmin}

// byTarget lists outcomes in targetRoles' order: USER, VIP, SERVICE, ANALYST, ADMIN.
func byTarget(o ...outcome) map[domain.Role]outcome {
	m := map[domain.Role]outcome{}
	for i, r := range targetRoles {
		m[r] = o[i]
	}
	return m
}

type targetOp struct {
	name  string
	actor domain.Role
	want  map[domain.Role]outcome
	// run acts on (or grants) target and reports the answer and the account acted on; after checks its stored state.
	run   func(t *testing.T, s *authzSuite, actor session, target domain.Role) (gqlResponse, string)
	after func(t *testing.T, s *authzSuite, user string, allowed bool)
}

var authzTargetMatrix = []targetOp{
	//                                                          USER   VIP    SERVICE ANALYST ADMIN
	{"updateUserStatus FROZEN", domain.RoleAdmin, byTarget(allow, allow, allow, allow, forbid), runStatus, userStatusIs("FROZEN")},
	{"updateUserRole to USER", domain.RoleAdmin, byTarget(allow, allow, allow, allow, forbid), runDemote, nil},
	{"updateUserRole granting", domain.RoleAdmin, byTarget(allow, allow, allow, allow, forbid), runGrant, nil},
	{"createUser with role", domain.RoleAdmin, byTarget(allow, allow, allow, allow, forbid), runCreate, nil},
	{"CONFIRM_FRAUD freezeUser", domain.RoleAnalyst, byTarget(allow, allow, forbid, forbid, forbid), runCase("freezeUser"), userStatusIs("FROZEN")},
	{"CONFIRM_FRAUD freezeUser", domain.RoleAdmin, byTarget(allow, allow, forbid, forbid, forbid), runCase("freezeUser"), userStatusIs("FROZEN")},
	{"CONFIRM_FRAUD blacklistDevice", domain.RoleAnalyst, byTarget(allow, allow, forbid, forbid, forbid), runCase("blacklistDevice"), nil},
	{"submitTransaction for", domain.RoleService, byTarget(allow, allow, hidden, hidden, hidden), runSubmit, nil},
	{"submitTransaction for", domain.RoleAdmin, byTarget(allow, allow, hidden, hidden, hidden), runSubmit, nil},
}

func (s *authzSuite) sessionOf(role domain.Role) session {
	switch role {
	case domain.RoleAnalyst:
		return s.analyst
	case domain.RoleAdmin:
		return s.admin
	}
	return s.gate
}

func runStatus(t *testing.T, s *authzSuite, actor session, target domain.Role) (gqlResponse, string) {
	user := s.e.user(t, s.name("target"), target).User.ID
	return s.e.post(t, actor.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN) { status } }`, map[string]any{"id": user}), user
}

func runDemote(t *testing.T, s *authzSuite, actor session, target domain.Role) (gqlResponse, string) {
	user := s.e.user(t, s.name("target"), target).User.ID
	return s.e.post(t, actor.AccessToken, `mutation($id: ID!) { updateUserRole(id: $id, role: USER) { role } }`, map[string]any{"id": user}), user
}

func runGrant(t *testing.T, s *authzSuite, actor session, target domain.Role) (gqlResponse, string) {
	user := s.newUser(t)
	return s.e.post(t, actor.AccessToken, `mutation($id: ID!, $r: Role!) { updateUserRole(id: $id, role: $r) { role } }`, map[string]any{"id": user, "r": target}), user
}

func runCreate(t *testing.T, s *authzSuite, actor session, target domain.Role) (gqlResponse, string) {
	return s.e.post(t, actor.AccessToken, `mutation($in: CreateUserInput!) { createUser(input: $in) { role } }`,
		map[string]any{"in": map[string]any{"username": s.name("created"), "password": authzPassword, "role": target}}), ""
}

func runSubmit(t *testing.T, s *authzSuite, actor session, target domain.Role) (gqlResponse, string) {
	user := s.e.user(t, s.name("payer"), target).User.ID
	return s.e.post(t, actor.AccessToken, `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { transaction { id } } }`,
		map[string]any{"in": map[string]any{"userId": user, "amount": "12000"}}), user
}

// runCase opens a case on a customer, who then becomes target (promoted after
// the case opened, or data from before this rule), and confirms fraud with flag.
func runCase(flag string) func(*testing.T, *authzSuite, session, domain.Role) (gqlResponse, string) {
	return func(t *testing.T, s *authzSuite, actor session, target domain.Role) (gqlResponse, string) {
		user := s.e.user(t, s.name("suspect"), domain.RoleUser).User.ID
		res := s.e.submit(t, s.admin.AccessToken, map[string]any{"userId": user, "amount": "12000", "deviceId": s.name("fp")})
		event := res.RiskEvent.ID
		if _, err := s.e.db.ExecContext(context.Background(), `UPDATE users SET role = ? WHERE id = ?`, target, user); err != nil {
			t.Fatal(err)
		}
		s.e.handle(t, actor.AccessToken, event, map[string]any{"action": "START"})
		return s.e.post(t, actor.AccessToken, handleEvent, map[string]any{"id": event, "in": map[string]any{"action": "CONFIRM_FRAUD", flag: true}}), user
	}
}

// userStatusIs checks the target's status: want when the action was allowed, still ACTIVE otherwise.
func userStatusIs(want string) func(*testing.T, *authzSuite, string, bool) {
	return func(t *testing.T, s *authzSuite, user string, allowed bool) {
		t.Helper()
		var status string
		if err := s.e.db.NewRaw(`SELECT status FROM users WHERE id = ?`, user).Scan(context.Background(), &status); err != nil {
			t.Fatal(err)
		}
		expect := want
		if !allowed {
			expect = "ACTIVE"
		}
		if status != expect {
			t.Fatalf("target status: got %s, want %s", status, expect)
		}
	}
}

// labelSourceMatrix: who may write which label source. Staff write ANALYST
// verdicts only; a service account writes its own feed kinds, never ANALYST.
var labelSourceMatrix = []struct {
	actor     domain.Role
	source    any // nil: not given
	want      outcome
	stored    string
	overwrite bool // over an analyst's verdict
}{
	{domain.RoleAnalyst, nil, allow, "ANALYST", false},
	{domain.RoleAnalyst, "ANALYST", allow, "ANALYST", false},
	{domain.RoleAnalyst, "CHARGEBACK", forbid, "", false},
	{domain.RoleAdmin, nil, allow, "ANALYST", false},
	{domain.RoleAdmin, "CHARGEBACK", forbid, "", false},
	{domain.RoleService, nil, allow, "CHARGEBACK", false},
	{domain.RoleService, "ISSUER_FEED", allow, "ISSUER_FEED", false},
	{domain.RoleService, "ANALYST", forbid, "", false},
	{domain.RoleService, "ANALYST_REVIEW", forbid, "", false},
	{domain.RoleService, nil, "CONFLICT", "ANALYST", true},
	{domain.RoleService, "ISSUER_FEED", "CONFLICT", "ANALYST", true},
	{domain.RoleAnalyst, nil, allow, "ANALYST", true},
}

func TestAuthorizationMatrixTargets(t *testing.T) {
	s := newAuthzSuite(t)
	for _, op := range authzTargetMatrix {
		for _, target := range targetRoles {
			t.Run(fmt.Sprintf("%s %s/by %s", op.name, target, op.actor), func(t *testing.T) {
				want := op.want[target]
				res, user := op.run(t, s, s.sessionOf(op.actor), target)
				if got := outcome(res.code()); got != want && !(want == allow && len(res.Errors) == 0) {
					t.Fatalf("got %s, want %s", result(res), want)
				}
				if op.after != nil {
					op.after(t, s, user, want == allow)
				}
			})
		}
	}
	for _, tt := range labelSourceMatrix {
		t.Run(fmt.Sprintf("labelTransaction source %v/by %s/over verdict %v", tt.source, tt.actor, tt.overwrite), func(t *testing.T) {
			customer := s.newUser(t)
			tx := s.e.submit(t, s.gate.AccessToken, map[string]any{"userId": customer, "amount": "20"}).Transaction.ID
			if tt.overwrite {
				s.e.must(t, s.analyst.AccessToken, `mutation($id: ID!) { labelTransaction(id: $id, label: FRAUD) { source } }`, map[string]any{"id": tx}, nil)
			}
			res := s.e.post(t, s.sessionOf(tt.actor).AccessToken, `mutation($id: ID!, $s: String) { labelTransaction(id: $id, label: LEGITIMATE, source: $s) { source } }`,
				map[string]any{"id": tx, "s": tt.source})
			if got := outcome(res.code()); got != tt.want && !(tt.want == allow && len(res.Errors) == 0) {
				t.Fatalf("got %s, want %s", result(res), tt.want)
			}
			var source, label string
			err := s.e.db.NewRaw(`SELECT source, label FROM transaction_labels WHERE transaction_id = ?`, tx).Scan(context.Background(), &source, &label)
			if tt.stored == "" {
				if err == nil {
					t.Fatalf("a refused label was stored: %s %s", source, label)
				}
				return
			}
			if err != nil || source != tt.stored {
				t.Fatalf("stored label: got %q %q (%v), want source %s", source, label, err, tt.stored)
			}
			if wantLabel := map[bool]string{true: "LEGITIMATE", false: "FRAUD"}[tt.want == allow]; label != wantLabel {
				t.Fatalf("stored label: got %s, want %s", label, wantLabel)
			}
		})
	}
}
