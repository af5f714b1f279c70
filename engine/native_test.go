package engine

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
)

var (
	randFloats  = []float64{0, 1, 2.5, 100, 799, 801, 4999.99, 5000, 9999.99, 10000, 12000.5, -1, math.NaN()}
	randInts    = []int{0, 1, 2, 3, 4, 5, 10, 23, 100, -1}
	randStrings = []string{"", "CNY", "m-1", "m-1042", "NORMAL", "ABNORMAL", "BLACKLISTED", "USER", "VIP", "CN", "electronics", "APP", "WEB"}
)

// randomize fills every field of v (a struct) from small pools, so random
// features land on both sides of typical thresholds.
func randomize(r *rand.Rand, v reflect.Value) {
	for i := range v.NumField() {
		field := v.Field(i)
		switch field.Kind() {
		case reflect.Float64:
			field.SetFloat(randFloats[r.IntN(len(randFloats))])
		case reflect.Int:
			field.SetInt(int64(randInts[r.IntN(len(randInts))]))
		case reflect.String:
			field.SetString(randStrings[r.IntN(len(randStrings))])
		case reflect.Bool:
			field.SetBool(r.IntN(2) == 0)
		case reflect.Slice:
			var list []string
			for range r.IntN(4) {
				list = append(list, randStrings[r.IntN(len(randStrings))])
			}
			field.Set(reflect.ValueOf(list))
		case reflect.Struct:
			if field.Type() != reflect.TypeFor[time.Time]() {
				randomize(r, field)
			}
		}
	}
}

func randomFeatures(n int) []Features {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]Features, n)
	for i := range out {
		randomize(r, reflect.ValueOf(&out[i]).Elem())
	}
	return out
}

func TestNativeFields(t *testing.T) {
	names := exprNames(reflect.TypeFor[Features](), "")
	if got := len(nativeFields); got != len(names) {
		t.Errorf("got %d native fields; want one per feature, %d", got, len(names))
	}
	for _, f := range randomFeatures(20) {
		env := reflect.ValueOf(f)
		for _, name := range names {
			want := fieldByExprName(env, name).Interface()
			var got any
			switch fn := nativeFields[name].(type) {
			case boolFn:
				got = fn(&f)
			case intFn:
				got = fn(&f)
			case floatFn:
				got = fn(&f)
			case stringFn:
				got = fn(&f)
			case stringsFn:
				got = fn(&f)
			default:
				t.Fatalf("%s: got accessor %T; want one", name, fn)
			}
			if !reflect.DeepEqual(got, want) && !(isNaN(got) && isNaN(want)) {
				t.Errorf("%s: got %v; want %v", name, got, want)
			}
		}
	}
}

func isNaN(v any) bool {
	f, ok := v.(float64)
	return ok && math.IsNaN(f)
}

// fieldByExprName follows expr tags, as expr does.
func fieldByExprName(v reflect.Value, name string) reflect.Value {
	for _, part := range strings.Split(name, ".") {
		for i := range v.NumField() {
			if v.Type().Field(i).Tag.Get("expr") == part {
				v = v.Field(i)
				break
			}
		}
	}
	return v
}

// nativeConditions covers every construct the native compiler supports.
var nativeConditions = []string{
	`amount >= 10000`,
	`amount == 10000 || amount != 5000`,
	`amount > 1 and not device.new or user.vip`,
	`!(amount < 1) && amount <= 12000.5`,
	`user.txCount10m >= 5 && user.txCount10m < 10 && user.txCount10m <= 5 && user.txCount10m > 1`,
	`user.txCount1h == 5 || user.txCount1h != 4`,
	`user.txCount1h == amount || user.txCount24h < amount`,
	`user.txCount24h * 2 + 1 - user.txCount7d > 3`,
	`user.txCount24h / user.txCount10m > 1.5`,
	`amount / 3 > user.txCount1h / 2`,
	`amount * 2 - user.amount1h + 1 >= user.avgAmount24h * 5`,
	`-amount < -100 && +user.txCount1h > -user.txCount24h && -hour < 0 && +amount > 0`,
	`user.txCount1h * 2.5 > amount`,
	`device.status == "ABNORMAL" || device.status != "NORMAL"`,
	`merchant < "m-2" && currency >= "C" && channel > "A" && geo.city <= "Z"`,
	`merchant + "-" + currency == "m-1-CNY"`,
	`merchant contains "10" || channel startsWith "AP" || device.status endsWith "ED"`,
	`device.new == true || user.vip != geo.present`,
	`hour in [0, 1, 2, 23]`,
	`merchantCategory in ["electronics", "gambling"]`,
	`merchant in user.topMerchants`,
	`len(user.topMerchants) > 1`,
	`geo.hasPrevious && geo.distanceKm > 100 && geo.speedKmh > 800`,
	`true && !false`,
	`1 + 2 > hour`,
}

func TestNativeMatchesVM(t *testing.T) {
	conds := slices.Clone(nativeConditions)
	for _, r := range fiftyRules() {
		conds = append(conds, r.Condition)
	}
	samples := randomFeatures(500)
	var v vm.VM
	for i, cond := range conds {
		t.Run(cond, func(t *testing.T) {
			c, err := CompileCondition(cond)
			if err != nil {
				t.Fatal(err)
			}
			if c.native == nil {
				if i < len(nativeConditions) {
					t.Errorf("got no native form; want one")
				}
				return
			}
			for i := range samples {
				f := &samples[i]
				want, err := c.runVM(&v, *f)
				if err != nil {
					t.Fatalf("VM: %v", err)
				}
				if got := c.native(f); got != want {
					t.Fatalf("features %+v: got %v; want %v (VM)", *f, got, want)
				}
			}
		})
	}
}

func TestNativeUnsupported(t *testing.T) {
	for _, cond := range []string{
		`user.txCount1h % 2 == 0`,
		`amount ** 2 > 4`,
		`any(user.topMerchants, # == merchant)`,
		`merchant matches "^m-"`,
		`let x = amount; x > 1`,
		`amount > 1 ? device.new : user.vip`,
		`len(merchant) > 3`,
		`hour in 0..5 || amount in [1, 2]`,
		`upper(merchant) == "M-1"`,
	} {
		t.Run(cond, func(t *testing.T) {
			c, err := CompileCondition(cond)
			if err != nil {
				t.Fatal(err)
			}
			if c.native != nil {
				t.Errorf("got a native form; want the VM")
			}
			if _, err := c.Eval(&Features{User: UserFeatures{TxCount1h: 1}}); err != nil {
				t.Errorf("Eval: got %v; want no error", err)
			}
		})
	}
}
