package engine

// BuiltinRules returns the built-in rules, seeded as editable rule rows on
// first migrate. They carry no ID: the database assigns it.
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
