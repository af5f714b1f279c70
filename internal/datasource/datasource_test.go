package datasource_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/datasource"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var clock = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	db    *bun.DB
	svc   *datasource.Service
	admin auth.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, _ := pgtest.New(t)
	e := &env{t: t, db: db, svc: datasource.New(db, func() time.Time { return clock })}
	e.scan(&e.admin.UserID, `INSERT INTO users (username, password_hash, role) VALUES ('root', 'x', 'ADMIN') RETURNING id`)
	e.admin.Role = domain.RoleAdmin
	return e
}

func (e *env) scan(dst any, query string, args ...any) {
	e.t.Helper()
	if err := e.db.NewRaw(query, args...).Scan(context.Background(), dst); err != nil {
		e.t.Fatalf("%q: %v", query, err)
	}
}

// tx inserts a transaction of the admin user; the optional fields are all set.
func (e *env) tx(sourceID *int64, occurredAt time.Time) int64 {
	e.t.Helper()
	var id int64
	e.scan(&id, `INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at, source_id)
		VALUES (?0, 1, 'CNY', 'APPROVED', ?0, ?1, ?2) RETURNING id`, e.admin.UserID, occurredAt, sourceID)
	return id
}

func (e *env) create(name string, config string) *domain.DataSource {
	e.t.Helper()
	src, err := e.svc.Create(clientCtx(), e.admin, datasource.Input{Name: name, Kind: domain.SourceDatabase, Config: json.RawMessage(config)})
	if err != nil {
		e.t.Fatalf("create %q: %v", name, err)
	}
	return src
}

// storedConfig reads a source's config as the database holds it.
func (e *env) storedConfig(id int64) []byte {
	e.t.Helper()
	var raw string
	e.scan(&raw, `SELECT config::text FROM data_sources WHERE id = ?`, id)
	return []byte(raw)
}

// clientCtx is a request from the address the audit trail must record.
func clientCtx() context.Context { return auth.WithClientIP(context.Background(), "10.0.0.1") }

func wantCode(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != code || ae.Field != field {
		t.Fatalf("got error %v; want %s on %q", err, code, field)
	}
}

func ptr[T any](v T) *T { return &v }

const secretConfig = `{"host":"db","password":"hunter2","nested":{"apiKey":"k-123"},` +
	`"dsn":"postgres://u:pw-dsn@h/db","replica":"postgres://ro:pw-replica@r/db","list":[{"token":"tok-1"}]}`

func TestCreate(t *testing.T) {
	e := newEnv(t)
	ctx := clientCtx()
	src, err := e.svc.Create(ctx, e.admin, datasource.Input{
		Name: "  Core Banking ", Kind: domain.SourceDatabase, Description: ptr("ledger feed"), Config: json.RawMessage(secretConfig),
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if src.ID == 0 || src.Name != "Core Banking" || src.Kind != domain.SourceDatabase || src.Description != "ledger feed" ||
		src.Status != domain.SourceActive || !src.CreatedAt.Equal(clock) || !src.UpdatedAt.Equal(clock) || src.LastSeenAt != nil {
		t.Errorf("got %+v; want Core Banking, DATABASE, ACTIVE, created at %v, never seen", src, clock)
	}
	if got := e.storedConfig(src.ID); !sameJSON(t, got, []byte(secretConfig)) {
		t.Errorf("stored config: got %s; want %s", got, secretConfig)
	}
	plain, err := e.svc.Create(ctx, e.admin, datasource.Input{Name: "Card Stream", Kind: domain.SourceStream, Status: ptr(domain.SourcePaused)})
	if err != nil {
		t.Fatalf("Create without config: %v", err)
	}
	if got := e.storedConfig(plain.ID); string(got) != "{}" || plain.Status != domain.SourcePaused {
		t.Errorf("got config %s status %s; want {} PAUSED", got, plain.Status)
	}

	tests := []struct {
		name  string
		in    datasource.Input
		code  apperr.Code
		field string
	}{
		{"name taken in another case", datasource.Input{Name: "core BANKING", Kind: domain.SourceAPI}, apperr.Conflict, "name"},
		{"empty name", datasource.Input{Name: "  ", Kind: domain.SourceAPI}, apperr.BadInput, "name"},
		{"long name", datasource.Input{Name: strings.Repeat("n", 101), Kind: domain.SourceAPI}, apperr.BadInput, "name"},
		{"unknown kind", datasource.Input{Name: "x", Kind: "FTP"}, apperr.BadInput, "kind"},
		{"unknown status", datasource.Input{Name: "x", Kind: domain.SourceAPI, Status: ptr(domain.DataSourceStatus("GONE"))}, apperr.BadInput, "status"},
		{"config array", datasource.Input{Name: "x", Kind: domain.SourceAPI, Config: json.RawMessage(`[1]`)}, apperr.BadInput, "config"},
		{"config null", datasource.Input{Name: "x", Kind: domain.SourceAPI, Config: json.RawMessage(`null`)}, apperr.BadInput, "config"},
		{"config not JSON", datasource.Input{Name: "x", Kind: domain.SourceAPI, Config: json.RawMessage(`{"a":`)}, apperr.BadInput, "config"},
		{"config with a NUL character", datasource.Input{Name: "x", Kind: domain.SourceAPI, Config: json.RawMessage(`{"a":"\u0000"}`)}, apperr.BadInput, "config"},
		{"config over 16 KiB", datasource.Input{Name: "x", Kind: domain.SourceAPI,
			Config: json.RawMessage(`{"a":"` + strings.Repeat("x", 16<<10) + `"}`)}, apperr.BadInput, "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Create(ctx, e.admin, tt.in)
			wantCode(t, err, tt.code, tt.field)
		})
	}
	var sources int
	e.scan(&sources, `SELECT count(*) FROM data_sources`)
	if sources != 2 {
		t.Errorf("got %d sources; want 2", sources)
	}
	e.checkAudit([]string{"datasource.created", "datasource.created"}, "hunter2", "k-123", "pw-dsn", "pw-replica", "tok-1")
}

// checkAudit compares the data-source audit trail's actions and makes sure no secret is in it.
func (e *env) checkAudit(wantActions []string, secrets ...string) {
	e.t.Helper()
	var rows []struct {
		Action    string
		ActorID   int64
		IPAddress string
		Details   string
	}
	e.scan(&rows, `SELECT action, actor_id, ip_address, details::text AS details FROM audit_logs WHERE target_type = 'data_source' ORDER BY id`)
	var actions []string
	for _, r := range rows {
		actions = append(actions, r.Action)
		if r.ActorID != e.admin.UserID || r.IPAddress != "10.0.0.1" {
			e.t.Errorf("%s: got actor %d ip %q; want %d 10.0.0.1", r.Action, r.ActorID, r.IPAddress, e.admin.UserID)
		}
		for _, s := range secrets {
			if strings.Contains(r.Details, s) {
				e.t.Errorf("%s: details %s contain the secret %q", r.Action, r.Details, s)
			}
		}
	}
	if strings.Join(actions, ",") != strings.Join(wantActions, ",") {
		e.t.Errorf("audit: got %v; want %v", actions, wantActions)
	}
}

func TestUpdateKeepsRedactedSecrets(t *testing.T) {
	e := newEnv(t)
	ctx := clientCtx()
	src := e.create("Core Banking", secretConfig)
	other := e.create("Card Stream", `{}`)

	// The client edits what it was shown: the redacted config.
	var shown map[string]any
	if err := json.Unmarshal(datasource.Redact(src.StoredConfig), &shown); err != nil {
		t.Fatal(err)
	}
	if shown["password"] != "***" || shown["replica"] != "postgres://ro:***@r/db" {
		t.Fatalf("shown config %v does not hide the secrets", shown)
	}
	shown["host"] = "db2"
	shown["port"] = 5433
	edited, _ := json.Marshal(shown)
	later := clock.Add(time.Hour)
	svc := datasource.New(e.db, func() time.Time { return later })
	got, err := svc.Update(ctx, e.admin, src.ID, datasource.Update{Config: edited, Status: ptr(domain.SourceError)})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := `{"host":"db2","port":5433,"password":"hunter2","nested":{"apiKey":"k-123"},` +
		`"dsn":"postgres://u:pw-dsn@h/db","replica":"postgres://ro:pw-replica@r/db","list":[{"token":"tok-1"}]}`
	if stored := e.storedConfig(src.ID); !sameJSON(t, stored, []byte(want)) {
		t.Errorf("stored config: got %s; want %s", stored, want)
	}
	if got.Status != domain.SourceError || !got.UpdatedAt.Equal(later) || !got.CreatedAt.Equal(clock) || got.Name != "Core Banking" {
		t.Errorf("got %+v; want status ERROR, updated at %v", got, later)
	}

	// Sending the same config again, or nothing at all, changes nothing and audits nothing.
	if _, err := svc.Update(ctx, e.admin, src.ID, datasource.Update{Config: edited, Name: ptr("Core Banking")}); err != nil {
		t.Fatalf("no-op Update: %v", err)
	}

	tests := []struct {
		name  string
		id    int64
		in    datasource.Update
		code  apperr.Code
		field string
	}{
		{"*** where nothing is stored", src.ID, datasource.Update{Config: json.RawMessage(`{"password":"***","token":"***"}`)}, apperr.BadInput, "config"},
		{"URL password *** where no URL is stored", src.ID, datasource.Update{Config: json.RawMessage(`{"host":"pg://u:***@h/"}`)}, apperr.BadInput, "config"},
		{"config not an object", src.ID, datasource.Update{Config: json.RawMessage(`"x"`)}, apperr.BadInput, "config"},
		{"name of another source", src.ID, datasource.Update{Name: ptr("card stream")}, apperr.Conflict, "name"},
		{"empty name", src.ID, datasource.Update{Name: ptr("")}, apperr.BadInput, "name"},
		{"unknown kind", src.ID, datasource.Update{Kind: ptr(domain.DataSourceKind("FTP"))}, apperr.BadInput, "kind"},
		{"missing source", other.ID + 100, datasource.Update{Name: ptr("x")}, apperr.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Update(ctx, e.admin, tt.id, tt.in)
			wantCode(t, err, tt.code, tt.field)
		})
	}
	if stored := e.storedConfig(src.ID); !sameJSON(t, stored, []byte(want)) {
		t.Errorf("failed updates changed the config to %s", stored)
	}

	// Renaming and replacing a secret outright work too.
	if _, err := svc.Update(ctx, e.admin, src.ID, datasource.Update{Name: ptr("Ledger"), Config: json.RawMessage(`{"password":"new-pass"}`)}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if stored := e.storedConfig(src.ID); !sameJSON(t, stored, []byte(`{"password":"new-pass"}`)) {
		t.Errorf("stored config: got %s; want the new password alone", stored)
	}
	e.checkAudit([]string{"datasource.created", "datasource.created", "datasource.updated", "datasource.updated"},
		"hunter2", "k-123", "pw-dsn", "pw-replica", "tok-1", "new-pass")
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	ctx := clientCtx()
	src := e.create("Core Banking", `{"password":"hunter2"}`)
	txID := e.tx(&src.ID, clock)

	if err := e.svc.Delete(ctx, e.admin, src.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	var sourceID *int64
	e.scan(&sourceID, `SELECT source_id FROM transactions WHERE id = ?`, txID)
	if sourceID != nil {
		t.Errorf("transaction source: got %d; want NULL", *sourceID)
	}
	if _, err := e.svc.Get(ctx, src.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("Get after Delete: got %v; want NOT_FOUND", err)
	}
	if err := e.svc.Delete(ctx, e.admin, src.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("second Delete: got %v; want NOT_FOUND", err)
	}
	e.checkAudit([]string{"datasource.created", "datasource.deleted"}, "hunter2")
}

func TestReadsDeriveLastSeen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.create("b feed", `{}`)
	a := e.create("A feed", `{"token":"t"}`)
	quiet := e.create("C quiet", `{}`)
	e.tx(&a.ID, clock.Add(-3*time.Hour))
	e.tx(&a.ID, clock.Add(-time.Hour))
	e.tx(&b.ID, clock.Add(-2*time.Hour))
	e.tx(nil, clock)

	want := map[int64]*time.Time{a.ID: ptr(clock.Add(-time.Hour)), b.ID: ptr(clock.Add(-2 * time.Hour)), quiet.ID: nil}
	check := func(label string, got []*domain.DataSource, wantOrder ...int64) {
		t.Helper()
		if len(got) != len(wantOrder) {
			t.Fatalf("%s: got %d sources; want %d", label, len(got), len(wantOrder))
		}
		for i, s := range got {
			if wantOrder != nil && s.ID != wantOrder[i] {
				t.Errorf("%s: source %d is %d (%s); want %d", label, i, s.ID, s.Name, wantOrder[i])
			}
			w := want[s.ID]
			if (w == nil) != (s.LastSeenAt == nil) || (w != nil && !w.Equal(*s.LastSeenAt)) {
				t.Errorf("%s: %s last seen %v; want %v", label, s.Name, s.LastSeenAt, w)
			}
			if len(s.StoredConfig) == 0 {
				t.Errorf("%s: %s has no config", label, s.Name)
			}
		}
	}

	list, err := e.svc.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	check("List", list, a.ID, b.ID, quiet.ID) // by name, ignoring case
	one, err := e.svc.Get(ctx, a.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	check("Get", []*domain.DataSource{one}, a.ID)
	byIDs, err := e.svc.ByIDs(ctx, []int64{quiet.ID, a.ID, 9999})
	if err != nil {
		t.Fatalf("ByIDs: %v", err)
	}
	if len(byIDs) == 2 && byIDs[0].ID != quiet.ID {
		byIDs[0], byIDs[1] = byIDs[1], byIDs[0]
	}
	check("ByIDs", byIDs, quiet.ID, a.ID)
}
