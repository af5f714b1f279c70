package datasource_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/smartfinance/riskgraph/internal/datasource"
)

// sameJSON compares two JSON documents whatever their key order and spacing.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	for _, x := range []struct {
		raw []byte
		v   *any
	}{{a, &va}, {b, &vb}} {
		dec := json.NewDecoder(bytes.NewReader(x.raw))
		dec.UseNumber()
		if err := dec.Decode(x.v); err != nil {
			t.Fatalf("not JSON: %s: %v", x.raw, err)
		}
	}
	return reflect.DeepEqual(va, vb)
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"nested objects and arrays",
			`{"host":"db","password":"p","nested":{"apiKey":"k","list":[{"token":"t","name":"x"},[{"secret":1}]]},"port":5432}`,
			`{"host":"db","password":"***","nested":{"apiKey":"***","list":[{"token":"***","name":"x"},[{"secret":"***"}]]},"port":5432}`},
		{"password spellings",
			`{"PASSWORD":"a","db_passwd":"b","userPwd":"c","ssl-passphrase":"d","clientSecret":"e","access_token":"f"}`,
			`{"PASSWORD":"***","db_passwd":"***","userPwd":"***","ssl-passphrase":"***","clientSecret":"***","access_token":"***"}`},
		{"key spellings",
			`{"X-Api-Key":"a","api_key":"b","APIKEY":"c","accessKey":"d","private_key":"e","sshkey":"f","key":"g","key_id":"h","APIKeyName":"i","keyspace":"ks","monkeyBusiness":"m"}`,
			`{"X-Api-Key":"***","api_key":"***","APIKEY":"***","accessKey":"***","private_key":"***","sshkey":"***","key":"***","key_id":"***","APIKeyName":"***","keyspace":"ks","monkeyBusiness":"m"}`},
		{"credentials, auth, dsn and connection strings",
			`{"Credentials":{"user":"u","pass":"p"},"authorization":"Bearer x","oauth":{"client":"c"},"DSN":"x","connectionString":"a","connection string":"b","Connection_String":"c","username":"u"}`,
			`{"Credentials":"***","authorization":"***","oauth":"***","DSN":"***","connectionString":"***","connection string":"***","Connection_String":"***","username":"u"}`},
		{"URL with a password under an innocent key",
			`{"endpoint":"postgres://app:s3cr%40t@db:5432/risk?sslmode=require","user":"https://bob@example.com/","at":"https://example.com/x@y","list":["amqp://u:p@mq/"]}`,
			`{"endpoint":"postgres://app:***@db:5432/risk?sslmode=***","user":"https://bob@example.com/","at":"https://example.com/x@y","list":["amqp://u:***@mq/"]}`},
		{"the report: a webhook with a token and a SASL pass",
			`{"webhook":"https://hooks.example/x?token=S1","sasl":{"mechanism":"PLAIN","user":"u","pass":"S2"}}`,
			`{"webhook":"***","sasl":{"mechanism":"PLAIN","user":"u","pass":"***"}}`},
		{"whole-word secrets, not inside words",
			`{"pass":"a","client_pw":"b","PIN":"c","sig":"d","otp_seed":"e","hmacKey":"f","passenger":"g","pinned":"h","signal":"i","Cookie":"j","jwtIssuer":"k"}`,
			`{"pass":"***","client_pw":"***","PIN":"***","sig":"***","otp_seed":"***","hmacKey":"***","passenger":"g","pinned":"h","signal":"i","Cookie":"***","jwtIssuer":"***"}`},
		{"secret keys hide whole arrays and objects",
			`{"tokens":["a","b"],"secrets":{"x":1},"list":[{"Api_Key":["k"]}]}`,
			`{"tokens":"***","secrets":"***","list":[{"Api_Key":"***"}]}`},
		{"every URL query and fragment value, anywhere in a string",
			`{"url":"https://api.example/v1?sv=2024&sig=abc%2B&se=x#access_token=t1&state=s","note":"call https://x.example/cb?code=c1 then ftp://u:pw@h/f"}`,
			`{"url":"https://api.example/v1?sv=***&sig=***&se=***#access_token=***&state=***","note":"call https://x.example/cb?code=*** then ftp://u:***@h/f"}`},
		{"URLs without secrets stay as they are",
			`{"url":"https://example.com/a/b#section","x":"https://example.com/?flag"}`,
			`{"url":"https://example.com/a/b#section","x":"https://example.com/?flag"}`},
		{"key=value DSNs and bearer credentials in any string",
			`{"conn":"host=db user=etl password=hunter2 sslmode=require","odbc":"Server=s;Pwd='p w';Database=d","hdr":"Bearer abc.def-ghi","basic":"basic dXNlcjpwYXNz"}`,
			`{"conn":"host=db user=etl password=*** sslmode=require","odbc":"Server=s;Pwd='***';Database=d","hdr":"Bearer ***","basic":"basic ***"}`},
		{"null secrets stay null", `{"password":null,"token":""}`, `{"password":null,"token":"***"}`},
		{"numbers stay exact", `{"big":12345678901234567890123,"ratio":0.1000,"token":42}`, `{"big":12345678901234567890123,"ratio":0.1000,"token":"***"}`},
		{"top-level array", `[{"secret":"s"},"x"]`, `[{"secret":"***"},"x"]`},
		{"top-level URL string", `"postgres://u:p@h/db"`, `"postgres://u:***@h/db"`},
		{"number", `42`, `42`},
		{"null", `null`, `null`},
		{"empty", ``, `null`},
		{"truncated", `{"password":`, `"***"`},
		{"trailing garbage", `{"a":1} {"password":"p"}`, `"***"`},
		{"not JSON", "\xff\x00garbage", `"***"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := datasource.Redact(json.RawMessage(tt.in))
			if !sameJSON(t, got, []byte(tt.want)) {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
}

func TestRedactKeepsHTMLCharacters(t *testing.T) {
	got := datasource.Redact(json.RawMessage(`{"note":"a <b> & c"}`))
	if want := `{"note":"a <b> & c"}`; string(got) != want {
		t.Errorf("got %s; want %s", got, want)
	}
}

func TestRedactLeavesInputAlone(t *testing.T) {
	in := json.RawMessage(`{"password":"p"}`)
	datasource.Redact(in)
	if string(in) != `{"password":"p"}` {
		t.Errorf("input changed to %s", in)
	}
}

func FuzzRedact(f *testing.F) {
	for _, seed := range []string{
		`{"password":"p","nested":{"apiKey":"k","list":[{"token":"t"}]}}`,
		`{"url":"postgres://u:p@h:5432/db","x":[1,2.5,"s",null,true]}`,
		`[{"secret":{"deep":[{"key":"v"}]}}]`,
		`"redis://:pw@cache/0"`,
		`{"webhook":"https://h/x?token=S1#a=b","sasl":{"pass":"S2"},"conn":"password='x y' Bearer t"}`,
		`{"password":`,
		``,
		"\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := datasource.Redact(in)
		if !json.Valid(out) {
			t.Fatalf("Redact(%q) = %q, not JSON", in, out)
		}
		if again := datasource.Redact(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
		}
	})
}
