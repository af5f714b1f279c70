package access

import (
	"testing"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
)

var roles = []domain.Role{domain.RoleUser, domain.RoleVIP, domain.RoleService, domain.RoleAnalyst, domain.RoleAdmin}

// TestRulesByRole pins each rule for every role, as DESIGN.md "Roles" words them;
// the authorization matrix tests them again through the API.
func TestRulesByRole(t *testing.T) {
	const self, other = 1, 2
	own := &domain.Transaction{UserID: self, SubmittedBy: other}
	submitted := &domain.Transaction{UserID: other, SubmittedBy: self}
	feed := &domain.TransactionLabel{Source: LabelChargeback}
	verdict := &domain.TransactionLabel{Source: LabelAnalyst}
	type row struct {
		seeSelf, seeOther, ownTx, submittedTx, detail, investigation, device, feedLabel, verdictLabel, facts bool
		devices                                                                                              DeviceScope
	}
	customer := row{seeSelf: true, ownTx: true, detail: true, device: true, devices: OwnDevices}
	staff := row{true, true, true, true, true, true, true, true, true, false, AllDevices}
	want := map[domain.Role]row{
		domain.RoleUser: customer, domain.RoleVIP: customer,
		domain.RoleService: {submittedTx: true, feedLabel: true, facts: true, devices: NoDevices},
		domain.RoleAnalyst: staff, domain.RoleAdmin: staff,
	}
	for _, r := range roles {
		p := auth.Principal{UserID: self, Role: r}
		got := row{SeeUser(p, self), SeeUser(p, other), SeeTransaction(p, own), SeeTransaction(p, submitted),
			SeeDetectionDetail(p), SeeInvestigation(p), SeeTransactionDevice(p), SeeLabel(p, feed), SeeLabel(p, verdict),
			StateClientFacts(p), Devices(p)}
		if got != want[r] {
			t.Errorf("%s:\n got %+v\nwant %+v", r, got, want[r])
		}
		if SeeCase(p, other) != SeeUser(p, other) {
			t.Errorf("%s: cases follow user visibility", r)
		}
		if Review(p) != r.Staff() {
			t.Errorf("%s: review held transactions: got %v, want staff only", r, Review(p))
		}
	}
}

// TestSeeLabelNote: staff read every label's note; a payment system only the
// note of a feed label it wrote itself.
func TestSeeLabelNote(t *testing.T) {
	const self, other = int64(1), int64(2)
	tests := []struct {
		name  string
		label domain.TransactionLabel
		want  map[domain.Role]bool
	}{
		{"its own feed label", domain.TransactionLabel{Source: LabelChargeback, LabelledByID: ptr(self)},
			map[domain.Role]bool{domain.RoleService: true, domain.RoleAnalyst: true, domain.RoleAdmin: true}},
		{"another feed's label", domain.TransactionLabel{Source: LabelChargeback, LabelledByID: ptr(other)},
			map[domain.Role]bool{domain.RoleAnalyst: true, domain.RoleAdmin: true}},
		{"an analyst's verdict", domain.TransactionLabel{Source: LabelAnalyst, LabelledByID: ptr(self)},
			map[domain.Role]bool{domain.RoleAnalyst: true, domain.RoleAdmin: true}},
		{"no author", domain.TransactionLabel{Source: LabelChargeback},
			map[domain.Role]bool{domain.RoleAnalyst: true, domain.RoleAdmin: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range roles {
				if got := SeeLabelNote(auth.Principal{UserID: self, Role: r}, &tt.label); got != tt.want[r] {
					t.Errorf("%s: got %v, want %v", r, got, tt.want[r])
				}
			}
		})
	}
}

func ptr(v int64) *int64 { return &v }

func TestActing(t *testing.T) {
	for _, caller := range roles {
		for _, target := range roles {
			err := ChangeAccount(auth.Principal{Role: caller}, target)
			if want := caller.Outranks(target); (err == nil) != want {
				t.Errorf("%s on %s: got %v, want allowed=%v", caller, target, err, want)
			}
		}
	}
	if ChangeAccount(auth.Principal{Role: domain.RoleAdmin}, domain.RoleAdmin) == nil {
		t.Error("an admin may act on an admin")
	}
	for _, r := range roles {
		if CaseTarget(r) != r.Customer() || Assignable(r) != r.Staff() {
			t.Errorf("%s: case target %v, assignable %v", r, CaseTarget(r), Assignable(r))
		}
	}
}

func TestSubmitForAndNarrow(t *testing.T) {
	other := int64(2)
	for _, tt := range []struct {
		role domain.Role
		for_ *int64
		want int64
		code apperr.Code // "" when allowed
	}{
		{domain.RoleUser, nil, 1, ""},
		{domain.RoleUser, &other, 0, apperr.NotFound},
		{domain.RoleService, &other, 2, ""},
		{domain.RoleService, nil, 0, apperr.BadInput},
		{domain.RoleAdmin, &other, 2, ""},
		{domain.RoleAnalyst, &other, 0, apperr.Forbidden},
	} {
		got, err := SubmitFor(auth.Principal{UserID: 1, Role: tt.role}, tt.for_)
		if got != tt.want || (err == nil) != (tt.code == "") || (err != nil && apperr.CodeOf(err) != tt.code) {
			t.Errorf("%s: got %d, %v; want %d, %q", tt.role, got, err, tt.want, tt.code)
		}
	}
	var f domain.TransactionFilter
	NarrowTransactions(auth.Principal{UserID: 7, Role: domain.RoleService}, &f)
	if f.SubmittedBy == nil || *f.SubmittedBy != 7 || f.UserID != nil {
		t.Errorf("service listing: got %+v", f)
	}
	f = domain.TransactionFilter{UserID: &other}
	NarrowTransactions(auth.Principal{UserID: 7, Role: domain.RoleUser}, &f)
	if *f.UserID != 0 {
		t.Errorf("a customer naming another user: got user %d, want none (0)", *f.UserID)
	}
}

func TestLabelSource(t *testing.T) {
	for _, tt := range []struct {
		role      domain.Role
		requested string
		want      string
		code      apperr.Code
	}{
		{domain.RoleAnalyst, "", LabelAnalyst, ""},
		{domain.RoleAdmin, LabelAnalyst, LabelAnalyst, ""},
		{domain.RoleAnalyst, LabelChargeback, "", apperr.Forbidden},
		{domain.RoleService, "", LabelChargeback, ""},
		{domain.RoleService, "REFUND_FEED", "REFUND_FEED", ""},
		{domain.RoleService, LabelAnalyst, "", apperr.Forbidden},
		{domain.RoleService, "ANALYST_2", "", apperr.Forbidden},
		{domain.RoleService, "bad source", "", apperr.BadInput},
		{domain.RoleUser, "", "", apperr.Forbidden},
	} {
		got, err := LabelSource(auth.Principal{Role: tt.role}, tt.requested)
		if got != tt.want || (err == nil) != (tt.code == "") || (err != nil && apperr.CodeOf(err) != tt.code) {
			t.Errorf("%s %q: got %q, %v; want %q, %q", tt.role, tt.requested, got, err, tt.want, tt.code)
		}
	}
}

// TestDeviceTransactions: a device's history is every user's for staff, a
// customer's own for customers, nobody's for a payment system.
func TestDeviceTransactions(t *testing.T) {
	const self, device = 7, 3
	for _, r := range roles {
		f := domain.TransactionFilter{DeviceID: new(int64)}
		*f.DeviceID = device
		ok := DeviceTransactions(auth.Principal{UserID: self, Role: r}, &f)
		switch {
		case r.Staff():
			if !ok || f.UserID != nil {
				t.Errorf("%s: got %v user %v; want every user's", r, ok, f.UserID)
			}
		case r.Customer():
			if !ok || f.UserID == nil || *f.UserID != self {
				t.Errorf("%s: got %v user %v; want their own", r, ok, f.UserID)
			}
		default:
			if ok {
				t.Errorf("%s: got allowed; want none", r)
			}
		}
		if *f.DeviceID != device {
			t.Errorf("%s: the device changed to %d", r, *f.DeviceID)
		}
	}
}
