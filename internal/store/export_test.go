package store

// For the plan tests in package store_test, which can import pgtest.
var (
	FeaturesSQL = featuresSQL
	SettingsSQL = settingsSQL
)

// RecordStatements are the hot writes with their parameter counts, for
// TestRecordStatementsPrepare, which asks PostgreSQL how many it sees.
var RecordStatements = map[string]struct {
	SQL    string
	Params int
}{
	"record":       {record.sql, len(record.names)},
	"record event": {recordEvent.sql, len(recordEvent.names)},
	"record group": {recordGroup.sql, len(recordGroup.names)},
}
