package store_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/store"
)

// TestFeaturesGroupAsAlone: reading several users' features in one statement
// gives each exactly the row it gets read alone, in the queries' order —
// over a history of busy merchants, shared devices, addresses and subnets.
func TestFeaturesGroupAsAlone(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO users (username, password_hash, created_at) SELECT 'b' || g, '!', now() - (g % 100) * interval '1 day' FROM generate_series(1, 20000) g`,
		`INSERT INTO devices (fingerprint, first_seen_at, last_seen_at) SELECT 'fp-' || g, now() - (g % 3) * interval '20 hours', now() FROM generate_series(1, 30000) g`,
		benchHistory(3000, "60 days"),
		benchHistory(2000, "1 hour"),
		`ANALYZE users, devices, transactions`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The users with the most history, and a few without.
	var picked []int
	if err := db.NewRaw(`SELECT user_id FROM transactions GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 9`).Scan(ctx, &picked); err != nil {
		t.Fatal(err)
	}
	picked = append(picked, 19998, 19999, 20000)
	rng := rand.New(rand.NewPCG(3, 4))
	var qs []store.FeatureQuery
	var users []int64
	for _, u := range picked {
		a := benchArgs(u, rng)
		lat, lon := a[10].([]*float64)[0], a[11].([]*float64)[0]
		q := store.FeatureQuery{UserID: int64(u), At: a[1].([]time.Time)[0], Fingerprint: a[2].([]string)[0], SmallAmount: 10,
			Merchant: a[4].([]string)[0], Country: "CN", IPAddress: a[6].([]string)[0], NearLine: 10000, MerchantCategory: "grocery",
			Amount: 120, Latitude: lat, Longitude: lon}
		switch len(qs) {
		case 3: // no device, merchant, address or place
			q.Fingerprint, q.Merchant, q.IPAddress, q.Latitude, q.Longitude = "", "", "", nil, nil
		case 4: // the hottest merchant
			q.Merchant = "m-0"
		}
		qs = append(qs, q)
		users = append(users, q.UserID)
	}
	sub, _, err := store.BeginGroup(ctx, db, users, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	together, err := sub.FeaturesGroup(ctx, qs)
	if err != nil {
		t.Fatal(err)
	}
	if len(together) != len(qs) {
		t.Fatalf("%d rows for %d queries", len(together), len(qs))
	}
	busy, known := 0, 0
	for i, q := range qs {
		alone, err := sub.Features(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(together[i], alone) {
			t.Errorf("query %d (user %d): together\n%+v\nalone\n%+v", i, q.UserID, *together[i], *alone)
		}
		if alone.MerchantPayers1h > 5 {
			busy++
		}
		if alone.TxCount30d > 0 && alone.DeviceSeen {
			known++
		}
	}
	if busy == 0 || known == 0 {
		t.Errorf("%d queries read a busy merchant, %d a user's history on a known device: the history doesn't exercise the features", busy, known)
	}
}
