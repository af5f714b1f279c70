package tracing

import "testing"

func TestStatementName(t *testing.T) {
	for _, tt := range []struct{ sql, want string }{
		{`SELECT "u"."id" FROM "users" AS "u" WHERE (id = 1)`, "SELECT users"},
		{`INSERT INTO "transactions" ("user_id") VALUES (1)`, "INSERT transactions"},
		{`UPDATE "rules" SET hits = 2`, "UPDATE rules"},
		{`DELETE FROM sessions WHERE id = '00'`, "DELETE sessions"},
		{`select 1`, "SELECT"},
		{`WITH x AS (SELECT 1) SELECT * FROM x`, "WITH"},
		{`commit`, "COMMIT"},
		{`riskgraph_submit_features`, "riskgraph_submit_features"},
		{`SELECT * FROM ('secret')`, "SELECT"},
		{``, "SQL"},
	} {
		if got := statementName(tt.sql); got != tt.want {
			t.Errorf("statementName(%q) = %q, want %q", tt.sql, got, tt.want)
		}
	}
}
