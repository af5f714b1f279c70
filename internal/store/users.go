package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
)

// InsertUser creates a user; a taken username is apperr.ErrConflict.
func InsertUser(ctx context.Context, db bun.IDB, u *domain.User) error {
	_, err := db.NewInsert().Model(u).Returning("*").Exec(ctx)
	return mapErr(err)
}

// UserByID loads one user.
func UserByID(ctx context.Context, db bun.IDB, id int64) (*domain.User, error) {
	u := new(domain.User)
	err := db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	return u, mapErr(err)
}

// UserByIDForUpdate loads one user and locks the row as a payment's
// submission does (FOR NO KEY UPDATE), so the two serialize per user.
func UserByIDForUpdate(ctx context.Context, db bun.IDB, id int64) (*domain.User, error) {
	u := new(domain.User)
	err := db.NewSelect().Model(u).Where("id = ?", id).For("NO KEY UPDATE").Scan(ctx)
	return u, mapErr(err)
}

// UserByUsername loads one user by case-insensitive username.
func UserByUsername(ctx context.Context, db bun.IDB, username string) (*domain.User, error) {
	u := new(domain.User)
	err := db.NewSelect().Model(u).Where("lower(username) = lower(?)", username).Scan(ctx)
	return u, mapErr(err)
}

// UsersByIDs loads users in any order; missing IDs are absent.
func UsersByIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.User, error) {
	var users []*domain.User
	err := db.NewSelect().Model(&users).Where("id IN (?)", bun.List(ids)).Scan(ctx)
	return users, mapErr(err)
}

func applyUserFilter(q *bun.SelectQuery, f domain.UserFilter) *bun.SelectQuery {
	if f.Status != nil {
		q = q.Where("status = ?", *f.Status)
	}
	if f.Role != nil {
		q = q.Where("role = ?", *f.Role)
	}
	if f.Search != "" {
		pattern := "%" + escapeLike(f.Search) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("username ILIKE ?", pattern).WhereOr("email ILIKE ?", pattern)
		})
	}
	return q
}

// ListUsers pages through users in ID order.
func ListUsers(ctx context.Context, db bun.IDB, f domain.UserFilter, p page.Request) (page.Result[*domain.User], error) {
	return listPage[domain.User](ctx, db, "id", true, filtered(applyUserFilter, f), p)
}

// UserRoleForUpdate locks a user's row and returns its role, so a change
// checked against that role can't race a concurrent promotion.
func UserRoleForUpdate(ctx context.Context, db bun.IDB, id int64) (domain.Role, error) {
	var role domain.Role
	err := db.NewSelect().Model((*domain.User)(nil)).Column("role").Where("id = ?", id).For("UPDATE").Scan(ctx, &role)
	return role, mapNoRows(err, id)
}

// UpdateUserRole sets a user's role.
func UpdateUserRole(ctx context.Context, db bun.IDB, id int64, role domain.Role) (*domain.User, error) {
	u := new(domain.User)
	_, err := db.NewUpdate().Model(u).Set("role = ?", role).Set("updated_at = now()").
		Where("id = ?", id).Returning("*").Exec(ctx)
	return u, mapNoRows(err, u.ID)
}

// UpdateUserStatus sets a user's status.
func UpdateUserStatus(ctx context.Context, db bun.IDB, id int64, status domain.UserStatus) (*domain.User, error) {
	u := new(domain.User)
	_, err := db.NewUpdate().Model(u).Set("status = ?", status).Set("updated_at = now()").
		Where("id = ?", id).Returning("*").Exec(ctx)
	return u, mapNoRows(err, u.ID)
}

// UpdatePassword stores a new password hash.
func UpdatePassword(ctx context.Context, db bun.IDB, id int64, hash string) error {
	_, err := db.NewUpdate().Model((*domain.User)(nil)).Set("password_hash = ?", hash).Set("updated_at = now()").
		Where("id = ?", id).Exec(ctx)
	return mapErr(err)
}

// RecordLogin stamps a successful login and, when given, the location it
// came from; a backfilled (earlier) login moves neither back in time.
func RecordLogin(ctx context.Context, db bun.IDB, id int64, at time.Time, loc *domain.Location) error {
	q := db.NewUpdate().Model((*domain.User)(nil)).Set("last_login_at = GREATEST(last_login_at, ?)", at).Where("id = ?", id)
	if loc != nil {
		q = setLastLocation(q, loc, at)
	}
	_, err := q.Exec(ctx)
	return mapErr(err)
}

// setLastLocation moves the user's last known location forward, never back in time.
func setLastLocation(q *bun.UpdateQuery, loc *domain.Location, at time.Time) *bun.UpdateQuery {
	newer := "(last_location_at IS NULL OR last_location_at <= ?)"
	return q.
		Set("last_latitude = CASE WHEN "+newer+" THEN ? ELSE last_latitude END", at, loc.Latitude).
		Set("last_longitude = CASE WHEN "+newer+" THEN ? ELSE last_longitude END", at, loc.Longitude).
		Set("last_country = CASE WHEN "+newer+" THEN ? ELSE last_country END", at, loc.Country).
		Set("last_city = CASE WHEN "+newer+" THEN ? ELSE last_city END", at, loc.City).
		Set("last_location_at = GREATEST(last_location_at, ?)", at)
}

// AdminExists reports whether any ADMIN account exists.
func AdminExists(ctx context.Context, db bun.IDB) (bool, error) {
	ok, err := db.NewSelect().Model((*domain.User)(nil)).Where("role = ?", domain.RoleAdmin).Exists(ctx)
	return ok, mapErr(err)
}

// mapNoRows turns an UPDATE … RETURNING that touched nothing into apperr.ErrNotFound.
func mapNoRows(err error, id int64) error {
	if err != nil {
		return mapErr(err)
	}
	if id == 0 {
		return apperr.ErrNotFound
	}
	return nil
}

func escapeLike(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '_' || c == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
