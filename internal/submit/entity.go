package submit

import (
	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/store"
)

// The entity, multi-day and baseline features (issue 17), kept apart from
// features() so that it only calls these two.

// entityQuery adds to q what the read of those features needs to know of
// the transaction: its address, category, amount and place, and the near line.
func (s *Service) entityQuery(q *store.FeatureQuery, in *Input, amount float64) {
	q.IPAddress, q.MerchantCategory, q.Amount, q.NearLine = deref(in.IPAddress), deref(in.MerchantCategory), amount, s.cfg.NearLine
	if loc := in.Location; loc != nil {
		q.Latitude, q.Longitude = &loc.Latitude, &loc.Longitude
	}
}

// entityFeatures copies them from the row into f, before Derive; the row's
// figures already include this transaction where it qualifies.
func entityFeatures(f *engine.Features, row *store.FeatureRow) {
	f.MerchantStats = engine.MerchantStats{Payers10m: row.MerchantPayers10m, Payers1h: row.MerchantPayers1h,
		NewDevices10m: row.MerchantNewDevices10m, NewDevices1h: row.MerchantNewDevices1h,
		TinyShare1h: row.MerchantTinyShare1h, PayerMedianAgeDays1h: row.MerchantPayerMedianAge1h}
	f.IP = engine.IPFeatures{Users10m: row.IPUsers10m, Users24h: row.IPUsers24h, Devices10m: row.IPDevices10m, Devices24h: row.IPDevices24h,
		SubnetUsers10m: row.SubnetUsers10m, SubnetUsers24h: row.SubnetUsers24h,
		SubnetDevices10m: row.SubnetDevices10m, SubnetDevices24h: row.SubnetDevices24h}
	u := &f.User
	u.NearLineCount7d, u.Spend30dBefore7d, u.NewMerchants24h, u.NewMerchants72h =
		row.NearLineCount7d, row.Spend30dBefore7d, row.NewMerchants24h, row.NewMerchants72h
	u.History90d, u.HistoryBelow, u.HistoryNearHour, u.CategorySeen90d = row.History90d, row.HistoryBelow, row.HistoryNearHour, row.CategorySeen90d
	if f.Device.ID != "" {
		f.Device.Accounts1h, f.Device.DaysUsed30d = row.DeviceAccounts1h, row.DeviceDaysUsed30d
	}
	f.Geo.TravelBooked, f.Geo.LoginNearDestination = row.TravelBooked, row.LoginNearDestination
}
