package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// EventAction is an analyst's step on a risk event.
type EventAction string

// The event actions.
const (
	ActionAssign            EventAction = "ASSIGN"
	ActionStart             EventAction = "START"
	ActionConfirmFraud      EventAction = "CONFIRM_FRAUD"
	ActionMarkFalsePositive EventAction = "MARK_FALSE_POSITIVE"
	ActionEscalate          EventAction = "ESCALATE"
	ActionClose             EventAction = "CLOSE"
	ActionComment           EventAction = "COMMENT"
)

// eventTransitions is the workflow: from which statuses each action may be
// taken and where it leads ("" keeps the status).
var eventTransitions = map[EventAction]struct {
	from []domain.EventStatus
	to   domain.EventStatus
}{
	ActionAssign:            {from: []domain.EventStatus{domain.EventOpen, domain.EventInvestigating, domain.EventEscalated}},
	ActionStart:             {from: []domain.EventStatus{domain.EventOpen, domain.EventEscalated}, to: domain.EventInvestigating},
	ActionEscalate:          {from: []domain.EventStatus{domain.EventOpen, domain.EventInvestigating}, to: domain.EventEscalated},
	ActionConfirmFraud:      {from: []domain.EventStatus{domain.EventInvestigating, domain.EventEscalated}, to: domain.EventConfirmedFraud},
	ActionMarkFalsePositive: {from: []domain.EventStatus{domain.EventInvestigating, domain.EventEscalated}, to: domain.EventFalsePositive},
	ActionClose:             {from: []domain.EventStatus{domain.EventConfirmedFraud, domain.EventFalsePositive}, to: domain.EventClosed},
	ActionComment: {from: []domain.EventStatus{domain.EventOpen, domain.EventInvestigating, domain.EventEscalated,
		domain.EventConfirmedFraud, domain.EventFalsePositive, domain.EventClosed}},
}

// verdictLabels are the labels analysts' verdicts give the event's transaction.
var verdictLabels = map[EventAction]domain.Label{
	ActionConfirmFraud:      domain.LabelFraud,
	ActionMarkFalsePositive: domain.LabelLegitimate,
}

// verdictStatus is where a verdict leaves the event's transaction when it is
// still held for review.
var verdictStatus = map[EventAction]domain.TransactionStatus{
	ActionConfirmFraud:      domain.TxDeclined,
	ActionMarkFalsePositive: domain.TxApproved,
}

// settlingActions end the investigation: the event's open alerts resolve with it.
var settlingActions = map[EventAction]bool{ActionConfirmFraud: true, ActionMarkFalsePositive: true, ActionClose: true}

// HandleEventInput is one workflow step.
type HandleEventInput struct {
	Action     EventAction
	AssigneeID *int64
	Note       string
	// ExpectedVersion, when set, makes the step fail with CONFLICT if anyone changed the event since the caller read it.
	ExpectedVersion *int
	// FreezeUser and BlacklistDevice act on CONFIRM_FRAUD.
	FreezeUser      bool
	BlacklistDevice bool
}

const maxNoteLen = 2000

// HandleEvent applies a workflow step under a row lock: concurrent handlers
// are serialized, and one whose step no longer applies gets CONFLICT.
func (s *Service) HandleEvent(ctx context.Context, p auth.Principal, id int64, in HandleEventInput) (*domain.RiskEvent, error) {
	rule, ok := eventTransitions[in.Action]
	if !ok {
		return nil, apperr.Invalid("action", "is not a known action")
	}
	if len(in.Note) > maxNoteLen {
		return nil, apperr.Invalid("note", "must be at most 2000 characters")
	}
	if in.Action == ActionComment && strings.TrimSpace(in.Note) == "" {
		return nil, apperr.Invalid("note", "is required for COMMENT")
	}
	if in.Action == ActionAssign && in.AssigneeID == nil {
		return nil, apperr.Invalid("assigneeId", "is required for ASSIGN")
	}
	if (in.FreezeUser || in.BlacklistDevice) && in.Action != ActionConfirmFraud {
		return nil, apperr.Invalid("action", "freezeUser and blacklistDevice go with CONFIRM_FRAUD")
	}
	var ev *domain.RiskEvent
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if ev, err = store.RiskEventForUpdate(ctx, tx, id); err != nil {
			return err
		}
		if in.ExpectedVersion != nil && *in.ExpectedVersion != ev.Version {
			return apperr.New(apperr.Conflict, fmt.Sprintf("the event changed (version %d, you had %d): reload and retry", ev.Version, *in.ExpectedVersion))
		}
		if !allowed(rule.from, ev.Status) {
			return apperr.New(apperr.Conflict, fmt.Sprintf("cannot %s an event that is %s", strings.ToLower(string(in.Action)), ev.Status))
		}
		from := ev.Status
		if rule.to != "" {
			ev.Status = rule.to
		}
		now := s.now()
		details := map[string]any{}
		switch in.Action {
		case ActionAssign:
			assignee, err := store.UserByID(ctx, tx, *in.AssigneeID)
			if err != nil || !access.Assignable(assignee.Role) {
				return apperr.Invalid("assigneeId", "must be an analyst or admin")
			}
			ev.AssigneeID = &assignee.ID
			details["assigneeId"] = assignee.ID
			details["assignee"] = assignee.Username
		case ActionStart:
			if ev.AssigneeID == nil {
				ev.AssigneeID = &p.UserID // whoever starts an unassigned case owns it
			}
		case ActionConfirmFraud, ActionMarkFalsePositive:
			ev.HandledAt = &now
		case ActionClose:
			ev.ClosedAt = &now
		}
		if in.Action == ActionConfirmFraud {
			if err := s.actOnFraud(ctx, tx, p, ev, in, details); err != nil {
				return err
			}
		}
		// A verdict is ground truth for backtests and model training.
		// A LOGIN event has no transaction to label.
		if verdict, ok := verdictLabels[in.Action]; ok && ev.TransactionID != 0 {
			if _, err := label(ctx, tx, p, ev.UserID, ev.TransactionID, verdict, access.LabelAnalyst, in.Note); err != nil {
				return err
			}
		}
		resolved, err := s.settleWithEvent(ctx, tx, p, ev, in, now, details)
		if err != nil {
			return err
		}
		if err := store.SaveRiskEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := s.recordEventAction(ctx, tx, p, ev.ID, string(in.Action), from, ev.Status, in.Note, details); err != nil {
			return err
		}
		// Each resolved alert's own history says why, after the step that caused it.
		for _, a := range resolved {
			from, to := string(a.From), string(domain.AlertResolved)
			if err := store.InsertHandlingRecord(ctx, tx, &domain.HandlingRecord{AlertID: &a.ID, ActorID: &p.UserID, Action: string(AlertResolve),
				FromStatus: &from, ToStatus: &to, Note: "resolved with its event (" + string(in.Action) + ")", CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	return ev, err
}

// settleWithEvent carries a verdict to the event's held transaction and
// resolves the open alerts of an event the step settles, in the step's
// database transaction; details (the step's timeline and audit entry) say what changed.
func (s *Service) settleWithEvent(ctx context.Context, tx bun.IDB, p auth.Principal, ev *domain.RiskEvent, in HandleEventInput,
	now time.Time, details map[string]any,
) ([]store.ResolvedAlert, error) {
	if to, ok := verdictStatus[in.Action]; ok && ev.TransactionID != 0 {
		_, settled, err := store.SettleHeld(ctx, tx, ev.TransactionID, to, &p.UserID, now)
		if err != nil {
			return nil, err
		}
		if settled {
			details["transactionStatus"] = to
		}
	}
	if !settlingActions[in.Action] {
		return nil, nil
	}
	resolved, err := store.ResolveEventAlerts(ctx, tx, ev.ID, p.UserID, now)
	if err != nil || len(resolved) == 0 {
		return nil, err
	}
	ids := make([]int64, len(resolved))
	for i, a := range resolved {
		ids[i] = a.ID
	}
	details["resolvedAlertIds"] = ids
	return resolved, nil
}

// actOnFraud freezes the user and blacklists the device when the analyst asked to.
func (s *Service) actOnFraud(ctx context.Context, tx bun.IDB, p auth.Principal, ev *domain.RiskEvent, in HandleEventInput, details map[string]any) error {
	reason := fmt.Sprintf("confirmed fraud in risk event %d", ev.ID)
	if in.BlacklistDevice && !in.FreezeUser {
		if err := account.LockCustomer(ctx, tx, ev.UserID); err != nil {
			return err
		}
	}
	if in.FreezeUser {
		if _, err := account.FreezeCustomer(ctx, tx, &p.UserID, ev.UserID, reason, s.now()); err != nil {
			return err
		}
		details["frozenUserId"] = ev.UserID
	}
	if in.BlacklistDevice {
		deviceID, err := eventDevice(ctx, tx, ev)
		if err != nil {
			return err
		}
		if deviceID == nil {
			return apperr.Invalid("blacklistDevice", "the event's transaction or login has no device")
		}
		if _, err := account.SetDeviceStatus(ctx, tx, &p.UserID, *deviceID, domain.DeviceBlacklisted, reason); err != nil {
			return err
		}
		details["blacklistedDeviceId"] = *deviceID
	}
	return nil
}

// eventDevice is the device of the event's transaction or, for a LOGIN event, of its login; nil when it had none.
func eventDevice(ctx context.Context, tx bun.IDB, ev *domain.RiskEvent) (*int64, error) {
	if ev.LoginLogID != nil {
		ls, err := store.LoginLogsByIDs(ctx, tx, []int64{*ev.LoginLogID})
		if err != nil || len(ls) == 0 {
			return nil, err
		}
		return ls[0].DeviceID, nil
	}
	t, err := store.TransactionByID(ctx, tx, ev.TransactionID)
	if err != nil {
		return nil, err
	}
	return t.DeviceID, nil
}

func allowed(from []domain.EventStatus, s domain.EventStatus) bool {
	for _, f := range from {
		if f == s {
			return true
		}
	}
	return false
}

// recordEventAction appends the timeline entry, the handling record and the audit entry of a step.
func (s *Service) recordEventAction(ctx context.Context, tx bun.IDB, p auth.Principal, eventID int64, action string,
	from, to domain.EventStatus, note string, details map[string]any,
) error {
	raw, err := json.Marshal(details)
	if err != nil {
		return err
	}
	fromS, toS := string(from), string(to)
	if err := store.InsertTimeline(ctx, tx, &domain.TimelineEntry{EventID: eventID, Kind: domain.TimelineAction, Action: action,
		ActorID: &p.UserID, FromStatus: &fromS, ToStatus: &toS, Note: note, Details: raw, CreatedAt: s.now()}); err != nil {
		return err
	}
	if err := store.InsertHandlingRecord(ctx, tx, &domain.HandlingRecord{EventID: &eventID, ActorID: &p.UserID, Action: action,
		FromStatus: &fromS, ToStatus: &toS, Note: note, CreatedAt: s.now()}); err != nil {
		return err
	}
	details["from"], details["to"] = from, to
	return store.Audit(ctx, tx, &p.UserID, "event."+strings.ToLower(action), "risk_event", strconv.FormatInt(eventID, 10), details, auth.ClientIP(ctx))
}

// AlertAction is an analyst's step on an alert.
type AlertAction string

// The alert actions.
const (
	AlertAcknowledge AlertAction = "ACKNOWLEDGE"
	AlertResolve     AlertAction = "RESOLVE"
	AlertDismiss     AlertAction = "DISMISS"
)

var alertTransitions = map[AlertAction]struct {
	from []domain.AlertStatus
	to   domain.AlertStatus
}{
	AlertAcknowledge: {from: []domain.AlertStatus{domain.AlertNew}, to: domain.AlertAcknowledged},
	AlertResolve:     {from: []domain.AlertStatus{domain.AlertNew, domain.AlertAcknowledged}, to: domain.AlertResolved},
	AlertDismiss:     {from: []domain.AlertStatus{domain.AlertNew, domain.AlertAcknowledged}, to: domain.AlertDismissed},
}

// HandleAlert acknowledges, resolves or dismisses an alert, reflected in its event's timeline.
func (s *Service) HandleAlert(ctx context.Context, p auth.Principal, id int64, action AlertAction, note string) (*domain.Alert, error) {
	rule, ok := alertTransitions[action]
	if !ok {
		return nil, apperr.Invalid("action", "is not a known action")
	}
	if len(note) > maxNoteLen {
		return nil, apperr.Invalid("note", "must be at most 2000 characters")
	}
	var a *domain.Alert
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if a, err = store.AlertForUpdate(ctx, tx, id); err != nil {
			return err
		}
		found := false
		for _, f := range rule.from {
			found = found || f == a.Status
		}
		if !found {
			return apperr.New(apperr.Conflict, fmt.Sprintf("cannot %s an alert that is %s", strings.ToLower(string(action)), a.Status))
		}
		from := a.Status
		now := s.now()
		a.Status, a.HandledByID, a.HandledAt = rule.to, &p.UserID, &now
		if note != "" {
			a.HandleNote = &note
		}
		if err := store.SaveAlert(ctx, tx, a); err != nil {
			return err
		}
		fromS, toS := string(from), string(a.Status)
		if err := store.InsertHandlingRecord(ctx, tx, &domain.HandlingRecord{AlertID: &a.ID, ActorID: &p.UserID, Action: string(action),
			FromStatus: &fromS, ToStatus: &toS, Note: note, CreatedAt: now}); err != nil {
			return err
		}
		details, _ := json.Marshal(map[string]any{"alertId": a.ID})
		if err := store.InsertTimeline(ctx, tx, &domain.TimelineEntry{EventID: a.EventID, Kind: domain.TimelineAlert, Action: "ALERT_" + string(action),
			ActorID: &p.UserID, FromStatus: &fromS, ToStatus: &toS, Note: note, Details: details, CreatedAt: now}); err != nil {
			return err
		}
		return store.Audit(ctx, tx, &p.UserID, "alert."+strings.ToLower(string(action)), "alert", strconv.FormatInt(a.ID, 10),
			map[string]any{"from": from, "to": a.Status}, auth.ClientIP(ctx))
	})
	return a, err
}
