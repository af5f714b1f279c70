package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/cases"
	"github.com/smartfinance/riskgraph/internal/datasource"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
	"github.com/smartfinance/riskgraph/internal/submit"
)

// Services are what the history is written through, so every detection is real.
type Services struct {
	DB       *bun.DB
	Accounts *account.Service
	Submit   *submit.Service
	Cases    *cases.Service
	Sources  *datasource.Service
	Now      func() time.Time
}

type city struct {
	name, country string
	lat, lon      float64
}

var cities = []city{
	{"Shanghai", "CN", 31.2304, 121.4737}, {"Beijing", "CN", 39.9042, 116.4074}, {"Shenzhen", "CN", 22.5431, 114.0579},
	{"Hangzhou", "CN", 30.2741, 120.1551}, {"Guangzhou", "CN", 23.1291, 113.2644}, {"Chengdu", "CN", 30.5728, 104.0668},
}

var london = city{"London", "GB", 51.5074, -0.1278}

type plannedTx struct {
	user   *domain.User
	at     time.Time
	amount decimal.Decimal
	device string
	ip     string
	place  city
	source *int64
	merch  string
}

// History writes a week of traffic for a dozen customers — ordinary spending,
// a few large purchases, a velocity burst, an impossible journey, a device
// shared by three accounts — then walks some of the resulting risk events
// through the workflow. It does nothing when transactions already exist.
func History(ctx context.Context, svc Services) (int, error) {
	exists, err := svc.DB.NewSelect().Model((*domain.Transaction)(nil)).Exists(ctx)
	if err != nil || exists {
		return 0, err
	}
	gateway, err := store.UserByUsername(ctx, svc.DB, "gateway")
	if err != nil {
		return 0, fmt.Errorf("demo: gateway account: %w", err)
	}
	admin, err := store.UserByUsername(ctx, svc.DB, "admin")
	if err != nil {
		return 0, fmt.Errorf("demo: admin account: %w", err)
	}
	analyst, err := store.UserByUsername(ctx, svc.DB, "analyst")
	if err != nil {
		return 0, fmt.Errorf("demo: analyst account: %w", err)
	}
	adminP := auth.Principal{UserID: admin.ID, Role: domain.RoleAdmin}
	analystP := auth.Principal{UserID: analyst.ID, Role: domain.RoleAnalyst}

	sources, err := demoSources(ctx, svc, adminP)
	if err != nil {
		return 0, err
	}
	customers, err := demoCustomers(ctx, svc)
	if err != nil {
		return 0, err
	}

	rng := rand.New(rand.NewPCG(42, 2026))
	now := svc.Now().UTC()
	start := now.Add(-7 * 24 * time.Hour)
	// Accounts opened long before the week of history, so account age and the
	// device-user signals read the demo as a real book of customers would.
	opened := map[string]time.Time{"admin": start.AddDate(0, -6, 0), "analyst": start.AddDate(0, -6, 0),
		"gateway": start.AddDate(0, -6, 0), "alice": start.AddDate(0, -4, 0), "bob": start.AddDate(-2, 0, 0)}
	for i, u := range customers {
		opened[u.Username] = start.AddDate(0, 0, -30-9*i)
	}
	for name, at := range opened {
		if _, err := svc.DB.NewUpdate().Model((*domain.User)(nil)).Set("created_at = ?", at).
			Where("username = ?", name).Exec(ctx); err != nil {
			return 0, fmt.Errorf("demo: backdate %s: %w", name, err)
		}
	}
	var plan []plannedTx
	for i, u := range customers {
		home := cities[i%len(cities)]
		device := fmt.Sprintf("fp-%s-phone", u.Username)
		ip := fmt.Sprintf("203.0.113.%d", 10+i)
		if i >= len(customers)-3 {
			device = "fp-shared-emulator" // a device ring: three accounts, one emulator
		}
		for day := 0; day < 7; day++ {
			for n := 2 + rng.IntN(4); n > 0; n-- {
				at := start.Add(time.Duration(day)*24*time.Hour + time.Duration(8+rng.IntN(14))*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
				amount := math.Exp(5.3 + 0.9*rng.NormFloat64())
				if rng.Float64() < 0.03 {
					amount = 10000 + rng.Float64()*25000
				}
				plan = append(plan, plannedTx{user: u, at: at, amount: decimal.NewFromFloat(amount).Round(2), device: device,
					ip: ip, place: home, source: sources[rng.IntN(len(sources))], merch: fmt.Sprintf("m-%03d", rng.IntN(40))})
			}
		}
	}
	// A velocity burst: six payments in five minutes, two days ago.
	burst := now.Add(-48 * time.Hour).Truncate(time.Hour)
	for k := range 6 {
		plan = append(plan, plannedTx{user: customers[4], at: burst.Add(time.Duration(k) * 50 * time.Second), amount: decimal.NewFromInt(int64(300 + 100*k)),
			device: "fp-" + customers[4].Username + "-phone", ip: "203.0.113.14", place: cities[4], merch: "m-electronics"})
	}
	// An impossible journey: Hangzhou, then London twenty minutes later.
	trip := now.Add(-26 * time.Hour).Truncate(time.Hour)
	plan = append(plan,
		plannedTx{user: customers[3], at: trip, amount: decimal.NewFromInt(88), device: "fp-" + customers[3].Username + "-phone", ip: "203.0.113.13", place: cities[3], merch: "m-cafe"},
		plannedTx{user: customers[3], at: trip.Add(20 * time.Minute), amount: decimal.NewFromInt(4200), device: "fp-unknown-laptop", ip: "198.51.100.66", place: london, merch: "m-luxury"})
	// A fourth account linked to the ring only through a shared IP address.
	plan = append(plan, plannedTx{user: customers[len(customers)-4], at: now.Add(-5 * time.Hour), amount: decimal.NewFromInt(990),
		device: "fp-" + customers[len(customers)-4].Username + "-tablet", ip: "203.0.113.21", place: cities[0], merch: "m-017"})

	sort.Slice(plan, func(i, j int) bool { return plan[i].at.Before(plan[j].at) })
	gatewayP := auth.Principal{UserID: gateway.ID, Role: domain.RoleService}
	var events []*domain.RiskEvent
	for _, p := range plan {
		if p.at.After(now) {
			continue
		}
		at, device, ip := p.at, p.device, p.ip
		country, name := p.place.country, p.place.name
		res, err := svc.Submit.Submit(ctx, gatewayP, submit.Input{
			UserID: &p.user.ID, Amount: p.amount, Currency: "CNY", MerchantID: &p.merch, DeviceID: &device, IPAddress: &ip,
			Location:   &domain.Location{Latitude: p.place.lat, Longitude: p.place.lon, Country: &country, City: &name},
			OccurredAt: &at, SourceID: p.source,
		})
		if err != nil {
			return 0, fmt.Errorf("demo: submit: %w", err)
		}
		if res.RiskEvent != nil {
			events = append(events, res.RiskEvent)
		}
	}
	if err := markRing(ctx, svc, analystP); err != nil {
		return 0, err
	}
	return len(plan), walkEvents(ctx, svc, analystP, adminP, events)
}

func demoSources(ctx context.Context, svc Services, admin auth.Principal) ([]*int64, error) {
	defs := []datasource.Input{
		{Name: "core-banking-api", Kind: domain.SourceAPI, Config: json.RawMessage(`{"endpoint": "https://core.bank.example/v2/payments", "apiKey": "demo-key-not-secret"}`)},
		{Name: "card-stream", Kind: domain.SourceStream, Config: json.RawMessage(`{"topic": "card-auth", "brokers": ["kafka-1:9092"], "password": "demo-password"}`)},
	}
	var ids []*int64
	for _, d := range defs {
		s, err := svc.Sources.Create(ctx, admin, d)
		if err != nil {
			return nil, fmt.Errorf("demo: data source %s: %w", d.Name, err)
		}
		ids = append(ids, &s.ID)
	}
	return ids, nil
}

func demoCustomers(ctx context.Context, svc Services) ([]*domain.User, error) {
	var users []*domain.User
	for i := 1; i <= 12; i++ {
		name := fmt.Sprintf("customer%02d", i)
		if _, err := svc.Accounts.EnsureUser(ctx, account.NewUser{Username: name, Password: SeedPassword, Email: name + "@demo.smartfinance.local", Role: domain.RoleUser}, true); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", name, err)
		}
		u, err := store.UserByUsername(ctx, svc.DB, name)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// markRing flags the shared emulator, as an analyst would after spotting it.
func markRing(ctx context.Context, svc Services, analyst auth.Principal) error {
	var id int64
	if err := svc.DB.NewSelect().Model((*domain.Device)(nil)).Column("id").Where("fingerprint = ?", "fp-shared-emulator").Scan(ctx, &id); err != nil {
		return fmt.Errorf("demo: ring device: %w", err)
	}
	_, err := svc.Accounts.SetDeviceStatus(ctx, analyst, id, domain.DeviceAbnormal, "emulator shared by three accounts")
	return err
}

// walkEvents leaves events in every state, so the dashboard has something to show.
func walkEvents(ctx context.Context, svc Services, analyst, admin auth.Principal, events []*domain.RiskEvent) error {
	flows := [][]cases.HandleEventInput{
		nil, // stays OPEN
		{{Action: cases.ActionStart, Note: "looking into it"}},
		{{Action: cases.ActionStart}, {Action: cases.ActionMarkFalsePositive, Note: "customer confirmed the purchase"}, {Action: cases.ActionClose}},
		{{Action: cases.ActionStart}, {Action: cases.ActionConfirmFraud, Note: "card reported stolen"}},
		{{Action: cases.ActionEscalate, Note: "needs a second opinion"}},
		{{Action: cases.ActionStart}, {Action: cases.ActionMarkFalsePositive, Note: "regular large purchase"}},
	}
	for i, ev := range events {
		actor := analyst
		if i%5 == 4 {
			actor = admin
		}
		// The alert is acknowledged first, as an analyst picks it up; a verdict then resolves it.
		alerts, err := store.AlertsByEventIDs(ctx, svc.DB, []int64{ev.ID})
		if err != nil {
			return err
		}
		if as := alerts[ev.ID]; len(as) > 0 && i%2 == 1 {
			if _, err := svc.Cases.HandleAlert(ctx, actor, as[0].ID, cases.AlertAcknowledge, ""); err != nil {
				return err
			}
		}
		for _, step := range flows[i%len(flows)] {
			if _, err := svc.Cases.HandleEvent(ctx, actor, ev.ID, step); err != nil {
				return fmt.Errorf("demo: handle event %d: %w", ev.ID, err)
			}
		}
	}
	return nil
}
