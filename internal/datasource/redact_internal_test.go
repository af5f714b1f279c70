package datasource

import (
	"reflect"
	"testing"
)

// FuzzRedactRoundTrip pins that secrets are write-only yet never lost: a
// client that sends back the config it was shown stores exactly what was stored.
func FuzzRedactRoundTrip(f *testing.F) {
	for _, seed := range []string{
		`{"webhook":"https://h/x?token=S1#a=b","sasl":{"pass":"S2"}}`,
		`{"conn":"host=db password='x y' sslmode=require","hdr":"Bearer abc","n":"password=Bearer abc"}`,
		`{"a":"https://u:p@h/?q=1&q=2 and https://u:p2@h/?q=3","b":["ftp://x:y@z/"],"c":"***"}`,
		`{"x":"Bearer https://u:p@h/?k=v","y":"pwd=https://h/?t=1"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg, err := validConfig(raw)
		if err != nil {
			return
		}
		shown := Redact(raw)
		back, err := decode(shown)
		if err != nil {
			t.Fatalf("Redact(%q) = %q, not JSON", raw, shown)
		}
		merged, err := restore(back, cfg, "config")
		if err != nil {
			t.Fatalf("sending back %q (shown for %q): %v", shown, raw, err)
		}
		again, _ := decode(raw)
		if !reflect.DeepEqual(merged, again) {
			got, _ := encode(merged)
			t.Fatalf("round trip of %q through %q stored %q", raw, shown, got)
		}
	})
}
