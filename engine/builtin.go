package engine

// RulePack is a named set of rules, seeded as editable rule rows once.
type RulePack struct {
	Name  string
	Rules []Rule
	// Later are the rules each later version of the pack adds, in order
	// (Later[0] is version 2). A deployment gets a version's rules once: all
	// of them on its first start, then those of each version it has not
	// seeded yet at the next start after an upgrade.
	Later [][]Rule
}

// Version is the pack's newest version.
func (p RulePack) Version() int { return 1 + len(p.Later) }

// Since returns the rules the versions after v add; Since(0) is every rule.
func (p RulePack) Since(v int) []Rule {
	var out []Rule
	if v < 1 {
		out = append(out, p.Rules...)
	}
	for _, rules := range p.Later[min(max(v-1, 0), len(p.Later)):] {
		out = append(out, rules...)
	}
	return out
}

// RulePacks lists the packs the server can seed (RULE_PACKS chooses), in
// seeding order: the seed documents' rules, then the default typology pack
// with its later versions.
func RulePacks() []RulePack {
	def := RulePack{Name: "default", Rules: DefaultRulePack(), Later: [][]Rule{GeneralisingRules(), BaselineRules()}}
	return []RulePack{{Name: "seed", Rules: append(BuiltinRules(), BuiltinLoginRules()...)}, def}
}

// BuiltinRules returns the TRANSACTION rules of the seed documents (plus the
// blacklist); the "seed" pack adds BuiltinLoginRules. They carry no ID: the database assigns it.
func BuiltinRules() []Rule {
	return []Rule{
		{
			Name:        "blacklisted device",
			Description: "device is blacklisted",
			Version:     1,
			Condition:   `device.status == "BLACKLISTED"`,
			Score:       100,
			Priority:    100,
			Type:        "BLACKLIST",
			Action:      ActionReject,
		},
		{
			Name:        "large amount",
			Description: "amount of 10,000 or more",
			Version:     1,
			Condition:   `amount >= 10000`,
			Score:       50,
			Priority:    50,
			Type:        "AMOUNT",
			Action:      ActionScore,
		},
		{
			Name:        "impossible travel",
			Description: "more than 100 km from the previous location at over 800 km/h",
			Version:     1,
			Condition:   `geo.hasPrevious && geo.distanceKm > 100 && geo.speedKmh > 800`,
			Score:       40,
			Priority:    40,
			Type:        "GEO",
			Action:      ActionScore,
		},
		{
			Name:        "high velocity",
			Description: "5 or more transactions in 10 minutes, this one included",
			Version:     1,
			Condition:   `user.txCount10m >= 5`,
			Score:       30,
			Priority:    30,
			Type:        "VELOCITY",
			Action:      ActionScore,
		},
		{
			Name:        "abnormal device",
			Description: "device is marked abnormal",
			Version:     1,
			Condition:   `device.status == "ABNORMAL"`,
			Score:       20,
			Priority:    20,
			Type:        "DEVICE",
			Action:      ActionScore,
		},
	}
}

// BuiltinLoginRules returns the LOGIN rules of the "seed" pack: seed 000's
// "login from a different place within a short time" (the impossible-travel
// test on the login's place) and a login from a device the user never used.
func BuiltinLoginRules() []Rule {
	return []Rule{
		{
			Name:        "login from a different place within a short time",
			Description: "a login more than 100 km from the previous login or transaction location at over 800 km/h",
			Version:     1,
			Condition:   `geo.hasPrevious && geo.distanceKm > 100 && geo.speedKmh > 800`,
			Score:       40,
			Priority:    40,
			Type:        "GEO",
			Scope:       ScopeLogin,
			Action:      ActionScore,
		},
		{
			Name:        "unknown device at login",
			Description: "a login from a device this user has never used",
			Version:     1,
			Condition:   `device.present && device.userAgeDays == 0`,
			Score:       20,
			Priority:    20,
			Type:        "DEVICE",
			Scope:       ScopeLogin,
			Action:      ActionScore,
		},
	}
}

// DefaultRulePack returns the "default" pack: one rule per fraud typology,
// each combining the typology's signals so ordinary customers stay clear of
// it (the simulator's benign patterns are each one signal, not two). Scores
// of 60 put a transaction in REVIEW; 45 flags it (MEDIUM) for an analyst.
// README "Detection" explains each with the simulator's figures.
func DefaultRulePack() []Rule {
	return []Rule{
		{
			Name:        "card testing",
			Description: "4 or more payments under SMALL_AMOUNT at 4 or more merchants within 10 minutes",
			Condition:   `user.smallTxCount10m >= 4 && user.merchantCount10m >= 4`,
			Score:       50,
			Priority:    65,
			Type:        "VELOCITY",
		},
		{
			Name:        "takeover from abroad",
			Description: "a country new for the user, on a device the user has never used",
			Condition:   `geo.newCountry && device.present && device.userAgeDays < 1`,
			Score:       60,
			Priority:    64,
			Type:        "GEO",
		},
		{
			Name:        "cash-out from a new device",
			Description: "1,000 or more and at least 3 times the user's 30-day maximum (3 or more payments), on a device the user first used under an hour ago",
			Condition:   `device.present && device.userAgeDays < 1.0/24 && user.txCount30d >= 3 && user.amountToMax30d >= 3 && amount >= 1000`,
			Score:       60,
			Priority:    63,
			Type:        "DEVICE",
		},
		{
			Name:        "new device drains the account",
			Description: "5,000 or more in an hour from an account with 3 or more payments in 30 days, on a device the user first used under an hour ago",
			Condition:   `device.present && device.userAgeDays < 1.0/24 && user.txCount30d >= 3 && user.amount1h >= 5000`,
			Score:       60,
			Priority:    63,
			Type:        "DEVICE",
		},
		{
			Name:        "dormant account wakes on a new device",
			Description: "first payment after 14 or more silent days, of 1,000 or more, on a device the user has never used",
			Condition:   `user.daysSincePrevious >= 14 && device.present && device.userAgeDays < 1 && amount >= 1000`,
			Score:       60,
			Priority:    62,
			Type:        "DEVICE",
		},
		{
			Name:        "night structuring",
			Description: "9,000 to 9,999.99, just under the 10,000 reporting line, between 00:00 and 06:00 local time",
			Condition:   `amount >= 9000 && amount < 10000 && localHour < 6`,
			Score:       60,
			Priority:    61,
			Type:        "AMOUNT",
		},
		{
			Name:        "device ring",
			Description: "4 or more users transacted on this device in 7 days",
			Condition:   `device.userCount7d >= 4`,
			Score:       50,
			Priority:    60,
			Type:        "DEVICE",
		},
		{
			Name:        "mule payee",
			Description: "a transfer (merchantCategory p2p_transfer) to a payee first paid under a day ago that 5 or more users paid in 24 hours",
			Condition:   `merchantCategory == "p2p_transfer" && merchantAgeDays < 1 && merchantUsers24h >= 5`,
			Score:       50,
			Priority:    59,
			Type:        "PAYEE",
		},
	}
}
