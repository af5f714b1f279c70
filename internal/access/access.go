// Package access is who may see and do what: every object-level rule of
// DESIGN.md's "Roles", in one place. Which roles may call a field at all is
// the schema's @hasRole; these rules decide whose objects a caller reaches
// and which parts of them it reads. A missing object and a forbidden one
// answer the same (NOT_FOUND), so a rule that refuses says only "no".
package access

import (
	"regexp"
	"strings"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// SeeUser: staff see everyone, customers only themselves, service accounts
// nobody's profile.
func SeeUser(p auth.Principal, userID int64) bool {
	return p.Role.Staff() || (p.Role.Customer() && p.UserID == userID)
}

// SeeTransaction: staff see every transaction, customers their own, and a
// payment system the ones it submitted (never what another channel saw of the user).
func SeeTransaction(p auth.Principal, t *domain.Transaction) bool {
	switch {
	case p.Role.Staff():
		return true
	case p.Role.Customer():
		return t.UserID == p.UserID
	case p.Role == domain.RoleService:
		return t.SubmittedBy == p.UserID
	}
	return false
}

// SeeCase: staff see every risk event and alert, customers their own.
func SeeCase(p auth.Principal, userID int64) bool { return SeeUser(p, userID) }

// OwnOnly narrows a customer's listing to themselves; a filter naming another
// user finds nothing. Other roles' filters are left as they are.
func OwnOnly(p auth.Principal, userID **int64) {
	if p.Role.Customer() {
		self := p.UserID
		if *userID != nil && **userID != self {
			self = 0 // no user has ID 0
		}
		*userID = &self
	}
}

// NarrowTransactions narrows a transaction listing to what the caller may
// see: a customer's own, a payment system's submissions (SeeTransaction).
func NarrowTransactions(p auth.Principal, f *domain.TransactionFilter) {
	OwnOnly(p, &f.UserID)
	if p.Role == domain.RoleService {
		f.SubmittedBy = &p.UserID
	}
}

// Review: analysts (and admins) settle transactions held for manual review;
// a payment system or a customer never approves a payment.
func Review(p auth.Principal) bool { return p.Role.Staff() }

// SeeLabelNote: a label's note is the institution's, except that a payment
// system reads back the note of a label it wrote itself (its own feed's kind).
func SeeLabelNote(p auth.Principal, l *domain.TransactionLabel) bool {
	if SeeInvestigation(p) {
		return true
	}
	return p.Role == domain.RoleService && SeeLabel(p, l) && l.LabelledByID != nil && *l.LabelledByID == p.UserID
}

// DeviceTransactions narrows a device's transaction history (Device.transactions)
// to what the caller may see: staff every user's, a customer their own; a
// payment system none, as it may not read our device record (false).
func DeviceTransactions(p auth.Principal, f *domain.TransactionFilter) bool {
	switch {
	case p.Role.Staff():
		return true
	case p.Role.Customer():
		self := p.UserID
		f.UserID = &self
		return true
	}
	return false
}

// Assignable: cases are assigned to staff only.
func Assignable(role domain.Role) bool { return role.Staff() }

// DeviceScope is which devices a caller may look up.
type DeviceScope int

// The device scopes.
const (
	NoDevices DeviceScope = iota
	// OwnDevices: only devices the caller has used.
	OwnDevices
	AllDevices
)

// Devices: staff see any device, customers those they used, others none.
func Devices(p auth.Principal) DeviceScope {
	switch {
	case p.Role.Staff():
		return AllDevices
	case p.Role.Customer():
		return OwnDevices
	}
	return NoDevices
}

// SeeTransactionDevice: a payment system submitted the fingerprint, but our
// device record (its status, its other users) is not its to read.
func SeeTransactionDevice(p auth.Principal) bool { return p.Role != domain.RoleService }

// SeeInvestigation: analysts' notes, timelines, handling records,
// suggestions, alert handling notes, label notes and data sources are the
// institution's, not the customer's or the payment system's.
func SeeInvestigation(p auth.Principal) bool { return p.Role.Staff() }

// SeeDetectionDetail: the feature vector (the user's history across every
// channel), shadow rules and the model's explanation are for staff and the
// customer about themselves; a payment system reads the verdict and the
// matched rules that explain it.
func SeeDetectionDetail(p auth.Principal) bool { return p.Role.Staff() || p.Role.Customer() }

// SeeLabel: labels are the institution's judgement, not the customer's data;
// a payment system sees its own feed's labels, never an analyst's verdict.
func SeeLabel(p auth.Principal, l *domain.TransactionLabel) bool {
	switch {
	case p.Role.Staff():
		return true
	case p.Role == domain.RoleService:
		return l.Source != LabelAnalyst
	}
	return false
}

// StateClientFacts: only a payment system reporting its customer's login may
// state the end user's address, agent and location (with an API key, one
// holding logins:record); anyone else's claims are never stored as facts.
func StateClientFacts(p auth.Principal) bool {
	return p.Role == domain.RoleService && p.HasScope(auth.ScopeLogins)
}

// SubmitFor decides whose transaction a submission is: customers submit as
// themselves; SERVICE and ADMIN must name the user (who must be a customer,
// which CaseTarget checks under the user's lock).
func SubmitFor(p auth.Principal, userID *int64) (int64, error) {
	switch {
	case p.Role.Customer():
		if userID != nil && *userID != p.UserID {
			return 0, apperr.ErrNotFound
		}
		return p.UserID, nil
	case p.Role == domain.RoleService || p.Role == domain.RoleAdmin:
		if userID == nil {
			return 0, apperr.Invalid("userId", "is required when submitting for another user")
		}
		return *userID, nil
	}
	return 0, apperr.New(apperr.Forbidden, "your role may not submit transactions")
}

// CaseTarget: payments, and case actions (freezing the user, blacklisting
// their device), reach customers only, never staff or service accounts,
// whoever handles the case.
func CaseTarget(role domain.Role) bool { return role.Customer() }

// ErrOutranked answers a change to an account, or a grant of a role, that is not below the caller's.
var ErrOutranked = apperr.New(apperr.Forbidden, "you may act only on accounts, and grant only roles, below your own")

// ChangeAccount: no role acts on an account of its own or a higher role, and
// none grants a role that is not below its own (so further admins come only
// from the ADMIN_USERNAME bootstrap).
func ChangeAccount(p auth.Principal, role domain.Role) error {
	if !p.Role.Outranks(role) {
		return ErrOutranked
	}
	return nil
}

// The label sources: staff write analysts' verdicts; a payment system's feed
// writes its own kinds, chargebacks by default.
const (
	LabelAnalyst    = "ANALYST"
	LabelChargeback = "CHARGEBACK"
)

var sourcePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// LabelSource decides a label's source from the caller's role; the requested
// source ("" when not given) only picks among the caller's own kinds.
func LabelSource(p auth.Principal, requested string) (string, error) {
	if requested != "" && !sourcePattern.MatchString(requested) {
		return "", apperr.Invalid("source", "must be 1 to 32 upper-case letters, digits or '_', e.g. CHARGEBACK")
	}
	switch {
	case p.Role.Staff():
		if requested != "" && requested != LabelAnalyst {
			return "", apperr.New(apperr.Forbidden, "staff labels are ANALYST verdicts; feed kinds belong to service accounts")
		}
		return LabelAnalyst, nil
	case p.Role == domain.RoleService:
		if requested == "" {
			return LabelChargeback, nil
		}
		if strings.HasPrefix(requested, LabelAnalyst) {
			return "", apperr.New(apperr.Forbidden, "a service account cannot post an analyst's verdict")
		}
		return requested, nil
	}
	return "", apperr.ErrForbidden
}

// HoldsAPIKeys: API keys are for payment systems' SERVICE accounts only; a
// key stops working when its account is no longer one.
func HoldsAPIKeys(role domain.Role) bool { return role == domain.RoleService }
