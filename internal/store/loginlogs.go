package store

import (
	"context"
	"github.com/smartfinance/riskgraph/internal/domain"

	"github.com/uptrace/bun"
)

// InsertLoginLog records a login attempt.
func InsertLoginLog(ctx context.Context, db bun.IDB, l *domain.LoginLog) error {
	_, err := db.NewInsert().Model(l).Returning("id, created_at").Exec(ctx)
	return mapErr(err)
}

// LoginLogKey asks for a user's newest Limit login logs.
type LoginLogKey struct {
	UserID int64
	Limit  int
}

// LoginLogsByUserIDs loads the newest `limit` login logs of each user.
func LoginLogsByUserIDs(ctx context.Context, db bun.IDB, userIDs []int64, limit int) (map[int64][]*domain.LoginLog, error) {
	var logs []*domain.LoginLog
	err := db.NewRaw(`SELECT ll.* FROM unnest(?::bigint[]) AS k(user_id)
		CROSS JOIN LATERAL (
			SELECT * FROM login_logs l WHERE l.user_id = k.user_id ORDER BY l.id DESC LIMIT ?
		) ll`, pgArray(userIDs), limit).Scan(ctx, &logs)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[int64][]*domain.LoginLog, len(userIDs))
	for _, l := range logs {
		out[*l.UserID] = append(out[*l.UserID], l)
	}
	return out, nil
}
