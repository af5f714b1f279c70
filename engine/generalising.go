package engine

// GeneralisingRules are version 2 of the "default" pack (issue 17): rules for
// attacks spread across many customers, slow attacks over days and spending
// far outside a customer's own baseline, the first probes of card testing,
// and one suppression rule. Each combines two or more signals, so that the
// benign look-alike of its family (a charity drive, a campus network, a
// family's shared tablet, salary day, moving house, a once-a-year purchase,
// a real journey) matches one signal, not all. Deployments that seeded the
// pack at version 1 get these once, at their next start (RulePack.Later).
// README "Detection" has the simulator's figures.
//
// They read the entity, multi-day, baseline, suppression and anomaly
// features of issue 17 (merchantStats.*, ip.*, device.accounts1h,
// user.nearLineCount7d …, geo.plausibleJourney, anomalyScore).
func GeneralisingRules() []Rule {
	return []Rule{
		{
			Name:        "merchant burst from new devices",
			Description: "a merchant first paid under 2 days ago, paid by 3 or more users in 10 minutes (5 or more in an hour) of whom half or more on devices first seen in the last 24 hours",
			Condition: `merchantAgeDays < 2 && (` +
				`(merchantStats.payers10m >= 3 && merchantStats.newDevices10m >= 3 && merchantStats.newDevices10m * 2 >= merchantStats.payers10m) || ` +
				`(merchantStats.payers1h >= 5 && merchantStats.newDevices1h * 2 >= merchantStats.payers1h))`,
			Score:    60,
			Priority: 58,
			Type:     "PAYEE",
		},
		{
			Name:        "new devices swarm one network",
			Description: "a device this user never used and nobody used in 7 days, on a /24 (/48) where 3 or more users paid in 10 minutes or 5 or more in 24 hours, from 3 or more devices",
			Condition: `device.new && device.newToAll7d && ip.subnetDevices24h >= 3 && ` +
				`(ip.subnetUsers10m >= 3 || ip.subnetUsers24h >= 5)`,
			Score:    60,
			Priority: 57,
			Type:     "DEVICE",
		},
		{
			Name:        "structuring over the week",
			Description: "9,000 to 9,999.99 and the third or later payment within 10% under NEAR_LINE in 7 days, at any hour",
			Condition:   `amount >= 9000 && amount < 10000 && user.nearLineCount7d >= 3`,
			Score:       60,
			Priority:    56,
			Type:        "AMOUNT",
		},
		{
			Name:        "second transfer just under the line",
			Description: "a transfer (p2p_transfer) of 9,000 to 9,999.99, the second within 10% under NEAR_LINE in 7 days",
			Condition:   `merchantCategory == "p2p_transfer" && amount >= 9000 && amount < 10000 && user.nearLineCount7d == 2`,
			Score:       45,
			Priority:    55,
			Type:        "AMOUNT",
		},
		{
			Name:        "spending climbs at new merchants from a recent device",
			Description: "7-day spend 3 or more times the user's own daily average, at 3 or more merchants new to them in 72 hours, on a device the user first used under 7 days ago",
			Condition: `device.present && device.userAgeDays < 7 && user.newMerchants72h >= 3 && ` +
				`user.spend7dToDailyAvg30d >= 3 && user.spendAcceleration >= 2`,
			Score:    60,
			Priority: 54,
			Type:     "VELOCITY",
		},
		{
			Name:        "off the customer's baseline at an odd hour",
			Description: "an amount above 95% of the user's own payments, in a category new to them, at an hour when they almost never pay (under 5% of their payments within an hour of it), with 15 or more payments in 30 days and in a country they have paid in",
			Condition: `user.amountPercentile >= 0.95 && user.newCategory && ` +
				`user.hourTypicality >= 0 && user.hourTypicality < 0.05 && user.txCount30d >= 15 && !geo.newCountry`,
			Score:    60,
			Priority: 53,
			Type:     "BASELINE",
		},
		{
			Name:        "off the customer's baseline from a device added today",
			Description: "an amount above 90% of the user's own payments, at a merchant not among their usual ones, on a device they first used under a day ago, with 10 or more payments in 30 days",
			Condition:   `device.present && device.userAgeDays < 1 && user.amountPercentile >= 0.9 && !user.knownMerchant && user.txCount30d >= 10`,
			Score:       50,
			Priority:    52,
			Type:        "BASELINE",
		},
		{
			Name:        "anomalous and unfamiliar",
			Description: "anomaly score 0.75 or more (isolation forest within the segment) and a new device, a new category or an amount above 95% of the user's own",
			Condition:   `anomalyScore >= 0.75 && (device.new || user.newCategory || user.amountPercentile >= 0.95)`,
			Score:       45,
			Priority:    51,
			Type:        "ANOMALY",
		},
		{
			Name:        "first probes of a card test",
			Description: "a payment under SMALL_AMOUNT with no location from a device first seen under an hour ago (card testing before the velocity rules can count)",
			Condition:   `amount < 10 && !geo.present && device.present && device.ageDays < 1.0/24`,
			Score:       45,
			Priority:    50,
			Type:        "VELOCITY",
		},
		{
			Name:        "plausible journey",
			Description: "suppression: travel the seed's impossible-travel rule flags, but a travel booking or a login at the destination came before and the device is the customer's usual one",
			Condition:   `geo.plausibleJourney`,
			Score:       -40,
			Priority:    39,
			Type:        "SUPPRESSION",
		},
	}
}

// BaselineRules are version 3 of the "default" pack: the customer's own
// device (or any device) behaving unlike the customer, and a suppression for
// a household's shared device. The two baseline rules would hold the payment
// for review outright (ActionReview): they read only the customer's own
// history, which a model trained on other customers' attacks has no way to
// weigh, so fusing them with such a model would let it veto them (0.6·60 +
// 0.4·0 = 36, under MEDIUM). They ship in shadow: on the simulator they
// flagged more benign payments than the benign budget allows for one more
// episode caught (README "Detection"), so an operator watches their hits
// before taking them out of shadow. Their thresholds were set on the
// simulator's training seed (11), its benign traffic and the typologies not
// held out.
func BaselineRules() []Rule {
	return []Rule{
		{
			Name: "far off the customer's baseline at an hour they never pay",
			Description: "an amount above 95% of the user's own payments and 3 or more times their 30-day average, in a category new to them, " +
				"at an hour when they almost never pay (under 5% of their payments within an hour of it), with 10 or more payments in 30 days, " +
				"in a country they have paid in, whatever the device",
			Condition: `user.txCount30d >= 10 && user.hourTypicality >= 0 && user.hourTypicality < 0.05 && ` +
				`user.amountPercentile >= 0.95 && user.amountToAvg30d >= 3 && user.newCategory && !geo.newCountry`,
			Score:    60,
			Priority: 49,
			Type:     "BASELINE",
			Action:   ActionReview,
			Shadow:   true,
		},
		{
			Name: "a burst far over the customer's norm at an hour they rarely pay",
			Description: "the second or later payment in an hour, the hour's spend 8 or more times the user's 30-day average payment, " +
				"this one above 90% of their own, at an hour when they rarely pay (under 15% of their payments within an hour of it), " +
				"with 10 or more payments in 30 days, whatever the device",
			Condition: `user.txCount30d >= 10 && user.hourTypicality >= 0 && user.hourTypicality < 0.15 && ` +
				`user.amountPercentile >= 0.9 && user.txCount1h >= 2 && user.amount1h >= 8 * user.avgAmount30d`,
			Score:    60,
			Priority: 48,
			Type:     "BASELINE",
			Action:   ActionReview,
			Shadow:   true,
		},
		{
			Name: "a household's shared device",
			Description: "suppression: 4 or more users on this device in 7 days (the device-ring rule's signal), " +
				"but this user is an established customer with 10 or more payments in 30 days, unlike a ring's throwaway accounts",
			Condition: `device.userCount7d >= 4 && user.txCount30d >= 10`,
			Score:     -40,
			Priority:  38,
			Type:      "SUPPRESSION",
		},
	}
}
