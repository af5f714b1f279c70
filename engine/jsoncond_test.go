package engine

import (
	"strings"
	"testing"
)

func TestConvertJSONCondition(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"seed example", `{"amount": {"$gt": 10000}}`, "amount > 10000"},
		{"$gte", `{"amount": {"$gte": 10000}}`, "amount >= 10000"},
		{"$lt", `{"amount": {"$lt": 5}}`, "amount < 5"},
		{"$lte", `{"amount": {"$lte": 5.5}}`, "amount <= 5.5"},
		{"$eq", `{"amount": {"$eq": 0}}`, "amount == 0"},
		{"$ne", `{"amount": {"$ne": -1}}`, "amount != -1"},
		{"range, operators sorted", `{"amount": {"$lt": 50000, "$gt": 10000}}`, "amount > 10000 && amount < 50000"},
		{"exponent", `{"amount": {"$gt": 1E4}}`, "amount > 10000"},
		{"huge", `{"amount": {"$gt": 1e21}}`, "amount > 1e+21"},
		{"hours sorted and deduplicated", `{"time": {"hour": [3, 0, 1, 3]}}`, "hour in [0, 1, 3]"},
		{"new device", `{"device": {"new_device": true}}`, "device.new"},
		{"known device", `{"device": {"new_device": false}}`, "!device.new"},
		{"tx_count_1h", `{"user_features": {"tx_count_1h": 3}}`, "user.txCount1h >= 3"},
		{"tx_count_24h", `{"user_features": {"tx_count_24h": 5}}`, "user.txCount24h >= 5"},
		{"tx_count_7d", `{"user_features": {"tx_count_7d": 20}}`, "user.txCount7d >= 20"},
		{"tx_amount_1h", `{"user_features": {"tx_amount_1h": 5000.5}}`, "user.amount1h >= 5000.5"},
		{"tx_amount_24h", `{"user_features": {"tx_amount_24h": 20000}}`, "user.amount24h >= 20000"},
		{"avg_amount_24h", `{"user_features": {"avg_amount_24h": 800}}`, "user.avgAmount24h >= 800"},
		{"user feature with operators", `{"user_features": {"tx_count_24h": {"$lt": 2}}}`, "user.txCount24h < 2"},
		{"whole count written as float", `{"user_features": {"tx_count_24h": 5.0}}`, "user.txCount24h >= 5"},
		{"keys AND-ed and sorted", `{
			"user_features": {"tx_count_7d": 1, "tx_count_24h": 5},
			"time": {"hour": [2]},
			"device": {"new_device": true},
			"amount": {"$gt": 10000}
		}`, "amount > 10000 && device.new && hour in [2] && user.txCount24h >= 5 && user.txCount7d >= 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConvertJSONCondition(tt.doc)
			if err != nil {
				t.Fatalf("got error %v; want %q", err, tt.want)
			}
			if got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
			if _, err := CompileCondition(got); err != nil {
				t.Errorf("compiling %q: got %v; want no error", got, err)
			}
		})
	}
}

func TestConvertJSONConditionErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"malformed", `{"amount": {"$gt": }}`, "invalid JSON condition"},
		{"truncated", `{"amount": {"$gt": 1}`, "invalid JSON condition"},
		{"trailing data", `{"amount": {"$gt": 1}}}`, "unexpected data after the document"},
		{"not an object", `[1, 2]`, "JSON condition must be a JSON object, got an array"},
		{"empty document", `{}`, "JSON condition is empty"},
		{"unknown key", `{"merchant": {"$eq": 1}}`, `unknown condition key "merchant"`},
		{"unknown operator", `{"amount": {"$in": [1]}}`, `amount: unknown operator "$in"`},
		{"bare amount", `{"amount": 10000}`, "amount must be a JSON object, got a number"},
		{"empty operators", `{"amount": {}}`, "amount is empty"},
		{"string amount", `{"amount": {"$gt": "10000"}}`, "amount.$gt must be a number, got a string"},
		{"amount out of range", `{"amount": {"$gt": 1e400}}`, "amount.$gt: 1e400 is out of range"},
		{"unknown time key", `{"time": {"minute": [1]}}`, `time: unknown key "minute"`},
		{"hour not a list", `{"time": {"hour": 3}}`, "time.hour must be a non-empty array of hours 0-23, got a number"},
		{"empty hours", `{"time": {"hour": []}}`, "time.hour must be a non-empty array"},
		{"hour out of range", `{"time": {"hour": [24]}}`, "time.hour: 24 is not an hour 0-23"},
		{"fractional hour", `{"time": {"hour": [1.5]}}`, "time.hour: 1.5 is not an hour 0-23"},
		{"hour as string", `{"time": {"hour": ["1"]}}`, `time.hour: "1" is not an hour 0-23`},
		{"unknown device key", `{"device": {"blacklisted": true}}`, `device: unknown key "blacklisted"`},
		{"new_device not bool", `{"device": {"new_device": "yes"}}`, "device.new_device must be true or false, got a string"},
		{"unknown user feature", `{"user_features": {"tx_count_10m": 5}}`, `user_features: unknown feature "tx_count_10m" (supported: avg_amount_24h,`},
		{"fractional count", `{"user_features": {"tx_count_24h": 2.5}}`, "user_features.tx_count_24h: 2.5 is not a whole number"},
		{"user feature bad operator", `{"user_features": {"tx_amount_1h": {"$gtt": 1}}}`, `user_features.tx_amount_1h: unknown operator "$gtt"`},
		{"user feature null", `{"user_features": {"tx_amount_1h": null}}`, "user_features.tx_amount_1h must be a number, got null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConvertJSONCondition(tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %q, %v; want an error containing %q", got, err, tt.wantErr)
			}
		})
	}
}
