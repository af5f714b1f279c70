package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// BenchmarkSubmitHotPath times submitTransaction end to end over HTTP, one
// client, with device, merchant, category, address and place, over a history
// shaped as BenchmarkFeatureRead's (internal/store) at half its size:
// 20,000 users, 30,000 devices, 100,000 payments over 60 days and 10,000 in
// the last hour. It is the whole submission, the feature read one part.
//
//	go test -run '^$' -bench SubmitHotPath -benchtime 2000x .
func BenchmarkSubmitHotPath(b *testing.B) {
	e := newEnv(b)
	admin := e.user(b, "root", domain.RoleAdmin)
	ctx := context.Background()
	var first int64
	if err := e.db.NewRaw(`SELECT coalesce(max(id), 0) + 1 FROM users`).Scan(ctx, &first); err != nil {
		b.Fatal(err)
	}
	history := func(n int, span string) string {
		return fmt.Sprintf(`INSERT INTO transactions (user_id, amount, currency, merchant_id, merchant_category, channel, device_id,
			device_fingerprint, ip_address, latitude, longitude, country, city, status, submitted_by, occurred_at)
		SELECT %[3]d + u, round((1 + 300 * random())::numeric, 2), 'CNY', 'm-' || floor(5000 * random() ^ 3)::int,
			(ARRAY['grocery','restaurant','electronics','travel','fuel'])[1 + u %% 5], 'APP', d, 'fp-' || d,
			'10.' || (u %% 2000 / 256) || '.' || (u %% 2000 %% 256) || '.' || (u / 2000 + 1), 31.2, 121.4, 'CN', 'Shanghai',
			'APPROVED', %[3]d + u, now() - random() ^ 1.5 * interval '%[1]s'
		FROM (SELECT ((g::bigint * 7919) %% 20000)::int AS u, g FROM generate_series(1, %[2]d) g) s,
			LATERAL (SELECT (SELECT min(id) FROM devices) + (u * 3 + g %% 3) %% 30000 AS d) dd`, span, n, first)
	}
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO users (id, username, password_hash, created_at) OVERRIDING SYSTEM VALUE
			SELECT %d + g, 'hp' || g, '!', now() - (g %% 1000) * interval '1 day' FROM generate_series(0, 19999) g`, first),
		`SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))`,
		`INSERT INTO devices (fingerprint, first_seen_at, last_seen_at) SELECT 'fp-x' || g, now() - (g % 500) * interval '1 day', now() FROM generate_series(1, 30000) g`,
		`UPDATE devices SET fingerprint = 'fp-' || id WHERE fingerprint LIKE 'fp-x%'`,
		history(100_000, "60 days"),
		history(10_000, "1 hour"),
		`VACUUM (ANALYZE) users, devices, transactions`,
	} {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	var minDevice int64
	if err := e.db.NewRaw(`SELECT min(id) FROM devices`).Scan(ctx, &minDevice); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	for range b.N {
		u := rng.IntN(20000)
		in := map[string]any{"userId": strconv.FormatInt(first+int64(u), 10), "amount": 20 + rng.IntN(200),
			"merchantId": fmt.Sprintf("m-%d", int(5000*pow3(rng.Float64()))), "merchantCategory": "grocery",
			"deviceId":  fmt.Sprintf("fp-%d", minDevice+int64((u*3+rng.IntN(3))%30000)),
			"ipAddress": fmt.Sprintf("10.%d.%d.%d", u%2000/256, u%2000%256, u/2000+1),
			"location":  map[string]any{"latitude": 31.2, "longitude": 121.4, "country": "CN"}}
		if r := e.post(b, admin.AccessToken, submitMutation, map[string]any{"in": in}); len(r.Errors) > 0 {
			b.Fatalf("submit: %v", r.Errors)
		}
	}
}

func pow3(x float64) float64 { return x * x * x }
