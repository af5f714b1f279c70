package store

// For the plan tests in package store_test, which can import pgtest.
var (
	FeaturesSQL = featuresSQL
	SettingsSQL = settingsSQL
)
