package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// orderedPage is one page of an ordered listing, with each node's sort key.
type orderedPage struct {
	IDs        []int64
	Keys       []float64
	TotalCount int
	HasNext    bool
	EndCursor  string
}

// TestOrderByPagesWithoutGapsOrDuplicates walks 1,000 events and their
// transactions, with many tied scores and amounts, page by page under every
// order and direction: every row comes exactly once, in key order, ties by ID.
func TestOrderByPagesWithoutGapsOrDuplicates(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)
	ctx := context.Background()
	// Rows straight into the tables, for speed: 7 distinct scores and 13
	// distinct amounts over 1,000 rows, so nearly every key is a tie.
	for _, q := range []string{
		`INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at)
			SELECT ?, 10 + (g % 13) * 2.5, 'CNY', 'APPROVED', ?, now() - g * interval '1 second' FROM generate_series(1, 1000) g`,
		`INSERT INTO detections (transaction_id, user_id, risk_score, risk_level, decision, rule_score, reason, features, latency_us)
			SELECT id, user_id, 40 + (id % 7) * 5.5, 'MEDIUM', 'PASS', 40, 'seeded', '{}', 1 FROM transactions WHERE user_id = ?`,
		`INSERT INTO risk_events (user_id, transaction_id, type, level, risk_score, title)
			SELECT user_id, transaction_id, 'AMOUNT', 'MEDIUM', risk_score, 'seeded' FROM detections WHERE user_id = ?`,
	} {
		if _, err := e.db.NewRaw(q, alice.User.ID, alice.User.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Statistics, as a live table has: without them the planner takes 1,000 rows for one.
	if _, err := e.db.ExecContext(ctx, "ANALYZE transactions, detections, risk_events"); err != nil {
		t.Fatal(err)
	}

	txQuery := `query($first: Int, $after: String, $order: TransactionOrder, $user: ID) {
		transactions(filter: {userId: $user}, first: $first, after: $after, orderBy: $order) {
			totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id amount detection { riskScore } } } } }`
	evQuery := `query($first: Int, $after: String, $order: RiskEventOrder, $user: ID) {
		riskEvents(filter: {userId: $user}, first: $first, after: $after, orderBy: $order) {
			totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id riskScore transaction { amount } } } } }`
	fetch := func(t *testing.T, list, field, dir, after string) orderedPage {
		t.Helper()
		vars := map[string]any{"first": 100, "user": alice.User.ID, "order": map[string]any{"field": field, "direction": dir}}
		if after != "" {
			vars["after"] = after
		}
		type node struct {
			ID        string
			Amount    string
			RiskScore float64
			Detection struct{ RiskScore float64 }
			Tx        struct{ Amount string } `json:"transaction"`
		}
		type conn struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct {
				Cursor string
				Node   node
			}
		}
		var out struct{ Transactions, RiskEvents conn }
		q := txQuery
		if list == "riskEvents" {
			q = evQuery
		}
		e.must(t, analyst.AccessToken, q, vars, &out)
		c := out.Transactions
		if list == "riskEvents" {
			c = out.RiskEvents
		}
		p := orderedPage{TotalCount: c.TotalCount, HasNext: c.PageInfo.HasNextPage, EndCursor: c.PageInfo.EndCursor}
		for i, ed := range c.Edges {
			id, _ := strconv.ParseInt(ed.Node.ID, 10, 64)
			var key float64
			switch {
			case field == "CREATED_AT":
				key = float64(id)
			case field == "SCORE" && list == "riskEvents":
				key = ed.Node.RiskScore
			case field == "SCORE":
				key = ed.Node.Detection.RiskScore
			case list == "riskEvents":
				key, _ = strconv.ParseFloat(ed.Node.Tx.Amount, 64)
			default:
				key, _ = strconv.ParseFloat(ed.Node.Amount, 64)
			}
			p.IDs, p.Keys = append(p.IDs, id), append(p.Keys, key)
			if i == len(c.Edges)-1 && ed.Cursor != c.PageInfo.EndCursor {
				t.Fatalf("last edge's cursor %q is not endCursor %q", ed.Cursor, c.PageInfo.EndCursor)
			}
		}
		return p
	}

	for _, list := range []string{"transactions", "riskEvents"} {
		for _, field := range []string{"SCORE", "AMOUNT", "CREATED_AT"} {
			for _, dir := range []string{"DESC", "ASC"} {
				t.Run(fmt.Sprintf("%s/%s/%s", list, field, dir), func(t *testing.T) {
					seen := map[int64]bool{}
					var prevKey float64
					var prevID int64
					after, pages := "", 0
					for {
						p := fetch(t, list, field, dir, after)
						pages++
						if p.TotalCount != 1000 {
							t.Fatalf("totalCount: got %d; want 1000", p.TotalCount)
						}
						for i, id := range p.IDs {
							if seen[id] {
								t.Fatalf("page %d: row %d again", pages, id)
							}
							seen[id] = true
							key := p.Keys[i]
							if prevID != 0 {
								inOrder := key > prevKey || (key == prevKey && id > prevID)
								if dir == "DESC" {
									inOrder = key < prevKey || (key == prevKey && id < prevID)
								}
								if !inOrder {
									t.Fatalf("page %d: (%v, %d) after (%v, %d) is out of %s order", pages, key, id, prevKey, prevID, dir)
								}
							}
							prevKey, prevID = key, id
						}
						if !p.HasNext {
							break
						}
						if pages > 10 {
							t.Fatal("more pages than rows")
						}
						after = p.EndCursor
					}
					if len(seen) != 1000 || pages != 10 {
						t.Fatalf("got %d rows in %d pages; want 1000 in 10", len(seen), pages)
					}
				})
			}
		}
	}

	t.Run("a cursor belongs to its order", func(t *testing.T) {
		byScore := fetch(t, "transactions", "SCORE", "DESC", "")
		byAmount := fetch(t, "riskEvents", "AMOUNT", "ASC", "")
		newest := fetch(t, "transactions", "CREATED_AT", "DESC", "")
		for _, c := range []struct {
			name, query, cursor string
			order               map[string]any
		}{
			{"score cursor, amount order", txQuery, byScore.EndCursor, map[string]any{"field": "AMOUNT", "direction": "DESC"}},
			{"score cursor, other direction", txQuery, byScore.EndCursor, map[string]any{"field": "SCORE", "direction": "ASC"}},
			{"score cursor, default order", txQuery, byScore.EndCursor, nil},
			{"default cursor, score order", txQuery, newest.EndCursor, map[string]any{"field": "SCORE", "direction": "DESC"}},
			{"event amount cursor, event score order", evQuery, byAmount.EndCursor, map[string]any{"field": "SCORE", "direction": "ASC"}},
			{"not a cursor", txQuery, "bm9wZQ", map[string]any{"field": "SCORE", "direction": "DESC"}},
			{"a forged key", txQuery, "YzI6U0NPUkU6REVTQzoxOyBEUk9QIFRBQkxFIHJ1bGVzOjEw", map[string]any{"field": "SCORE", "direction": "DESC"}},
		} {
			vars := map[string]any{"first": 5, "after": c.cursor, "user": alice.User.ID}
			if c.order != nil {
				vars["order"] = c.order
			}
			res := e.mustFail(t, analyst.AccessToken, c.query, vars, "BAD_USER_INPUT")
			if len(res.Errors) != 1 || res.Errors[0].Extensions["field"] != "after" {
				t.Errorf("%s: got %+v; want one error on after", c.name, res.Errors)
			}
		}
		// The same order takes its own cursor back.
		vars := map[string]any{"first": 5, "after": byScore.EndCursor, "user": alice.User.ID, "order": map[string]any{"field": "SCORE", "direction": "DESC"}}
		e.must(t, analyst.AccessToken, txQuery, vars, nil)
	})
}
