package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// mapRuleErr names the conflict a taken rule name causes; everything else goes through mapErr.
// The cause is dropped: InTx maps errors again, and a wrapped PgError would
// turn this back into the generic conflict. The message says all it did.
func mapRuleErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "rules_name_key" {
		return &apperr.Error{Code: apperr.Conflict, Field: "name", Message: "a rule with this name exists"}
	}
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "rules_code_key" {
		return &apperr.Error{Code: apperr.Conflict, Field: "code", Message: "a rule with this code exists"}
	}
	return mapErr(err)
}

// InsertRule creates a rule; a name taken case-insensitively is a CONFLICT on "name", a taken code on "code".
func InsertRule(ctx context.Context, db bun.IDB, r *domain.Rule) error {
	_, err := db.NewInsert().Model(r).Returning("*").Exec(ctx)
	return mapRuleErr(err)
}

// RuleByID loads one rule.
func RuleByID(ctx context.Context, db bun.IDB, id int64) (*domain.Rule, error) {
	r := new(domain.Rule)
	err := db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx)
	return r, mapErr(err)
}

// RuleByCode loads one rule by its code.
func RuleByCode(ctx context.Context, db bun.IDB, code string) (*domain.Rule, error) {
	r := new(domain.Rule)
	err := db.NewSelect().Model(r).Where("code = ?", code).Scan(ctx)
	return r, mapErr(err)
}

// RulesByIDs loads rules in any order.
func RulesByIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.Rule, error) {
	var rs []*domain.Rule
	err := db.NewSelect().Model(&rs).Where("id IN (?)", bun.List(ids)).Scan(ctx)
	return rs, mapErr(err)
}

// RuleForUpdate loads one rule and locks it until the transaction ends.
func RuleForUpdate(ctx context.Context, db bun.IDB, id int64) (*domain.Rule, error) {
	r := new(domain.Rule)
	err := db.NewSelect().Model(r).Where("id = ?", id).For("UPDATE").Scan(ctx)
	return r, mapErr(err)
}

// UpdateRule saves r's editable columns and version provided the stored row is
// still at version from; otherwise someone changed it meanwhile and it is a CONFLICT.
// r is refreshed from the row, hit statistics included.
func UpdateRule(ctx context.Context, db bun.IDB, r *domain.Rule, from int) error {
	res, err := db.NewUpdate().Model(r).
		Column("code", "name", "description", "condition", "expression", "score", "priority",
			"type", "scope", "action", "enabled", "shadow", "version", "updated_by", "updated_at").
		Where("id = ? AND version = ?", r.ID, from).
		Returning("*").Exec(ctx)
	if err != nil {
		return mapRuleErr(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return apperr.New(apperr.Conflict, "the rule was changed concurrently, retry")
	}
	return nil
}

// ListRules loads every rule, priority descending, then by ID.
func ListRules(ctx context.Context, db bun.IDB) ([]*domain.Rule, error) {
	var rs []*domain.Rule
	err := db.NewSelect().Model(&rs).Order("priority DESC", "id ASC").Scan(ctx)
	return rs, mapErr(err)
}

// EnabledRules loads the rules that take part in scoring.
func EnabledRules(ctx context.Context, db bun.IDB) ([]*domain.Rule, error) {
	var rs []*domain.Rule
	err := db.NewSelect().Model(&rs).Where("enabled").Order("priority DESC", "id ASC").Scan(ctx)
	return rs, mapErr(err)
}

// InsertRuleVersion records a rule as it is at one version.
func InsertRuleVersion(ctx context.Context, db bun.IDB, v *domain.RuleVersion) error {
	_, err := db.NewInsert().Model(v).Returning("*").Exec(ctx)
	return mapErr(err)
}

// RuleVersionsByRuleIDs loads every version of each rule, newest first.
func RuleVersionsByRuleIDs(ctx context.Context, db bun.IDB, ruleIDs []int64) (map[int64][]*domain.RuleVersion, error) {
	out := make(map[int64][]*domain.RuleVersion, len(ruleIDs))
	if len(ruleIDs) == 0 {
		return out, nil
	}
	var vs []*domain.RuleVersion
	err := db.NewSelect().Model(&vs).Where("rule_id IN (?)", bun.List(ruleIDs)).
		Order("rule_id ASC", "version DESC").Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, v := range vs {
		out[v.RuleID] = append(out[v.RuleID], v)
	}
	return out, nil
}

// AddRuleHits adds n hits to a rule's statistics, the last at lastHit.
// Adding deltas keeps concurrent flushes from several instances correct.
func AddRuleHits(ctx context.Context, db bun.IDB, ruleID, n int64, lastHit time.Time) error {
	_, err := db.NewUpdate().Model((*domain.Rule)(nil)).
		Set("hit_count = hit_count + ?", n).
		Set("last_hit_at = GREATEST(last_hit_at, ?)", lastHit).
		Where("id = ?", ruleID).Exec(ctx)
	return mapErr(err)
}

// RulePackVersion is the version of the pack seeded here, 0 if never.
func RulePackVersion(ctx context.Context, db bun.IDB, name string) (int, error) {
	var v []int
	if err := db.NewRaw("SELECT version FROM rule_packs WHERE name = ?", name).Scan(ctx, &v); err != nil {
		return 0, mapErr(err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	return v[0], nil
}

// SetRulePackVersion records the pack as seeded up to version v.
func SetRulePackVersion(ctx context.Context, db bun.IDB, name string, v int) error {
	_, err := db.NewRaw(`INSERT INTO rule_packs (name, version) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version, seeded_at = now()`, name, v).Exec(ctx)
	return mapErr(err)
}

// RuleNameTaken reports whether a rule has this name, case-insensitively.
func RuleNameTaken(ctx context.Context, db bun.IDB, name string) (bool, error) {
	ok, err := db.NewSelect().Model((*domain.Rule)(nil)).Where("lower(name) = lower(?)", name).Exists(ctx)
	return ok, mapErr(err)
}

// LockRuleSeeding serializes seeding of rule packs until the transaction
// ends, so instances starting together seed each once.
func LockRuleSeeding(ctx context.Context, db bun.IDB) error {
	_, err := db.NewRaw("SELECT pg_advisory_xact_lock(hashtextextended('riskgraph.rules.seed', 0))").Exec(ctx)
	return mapErr(err)
}
