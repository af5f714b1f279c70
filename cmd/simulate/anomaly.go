package main

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strings"
	"time"
)

// anomalyModel is the unsupervised anomaly model the "anomaly" configuration
// runs with, trained on the training traffic's window (no labels).
type anomalyModel struct {
	id, version string
	activate    string // the activation mutation
}

func (m *anomalyModel) summary() string {
	if m.version != "" {
		return fmt.Sprintf("anomaly model %s (id %s)", m.version, m.id)
	}
	return "anomaly model id " + m.id
}

// gqlType is what introspection tells about a field's or argument's type.
type gqlType struct {
	Name   string
	Kind   string
	OfType *gqlType
}

// named unwraps NON_NULL and LIST to the named type.
func (t *gqlType) named() string {
	for t != nil && t.Name == "" {
		t = t.OfType
	}
	if t == nil {
		return ""
	}
	return t.Name
}

// leafKind is the kind of the named type.
func (t *gqlType) leafKind() string {
	for t != nil && t.Name == "" {
		t = t.OfType
	}
	if t == nil {
		return ""
	}
	return t.Kind
}

// typeRef is a type as a variable declaration writes it: [X!]! and so on.
func (t *gqlType) typeRef() string {
	switch {
	case t == nil:
		return ""
	case t.Kind == "NON_NULL":
		return t.OfType.typeRef() + "!"
	case t.Kind == "LIST":
		return "[" + t.OfType.typeRef() + "]"
	}
	return t.Name
}

const introspectMutations = `{ __schema { mutationType { fields { name type { ...T } args { name type { ...T } } } } } }
fragment T on __Type { name kind ofType { name kind ofType { name kind ofType { name kind } } } }`

const introspectType = `query($n: String!) { __type(name: $n) { fields { name } inputFields { name } } }`

type gqlField struct {
	Name string
	Type *gqlType
	Args []struct {
		Name string
		Type *gqlType
	}
}

// trainAnomaly trains an anomaly model on [from, to) through the server's
// trainAnomalyModel mutation, found by introspection so the simulator runs
// against servers with and without one: unavailable says why there is none.
// The mutation may take an input with from and to; the model is switched on
// by activateAnomalyModel(id) if the server has it, else activateModel(id)
// (anomaly models versioned and activated like models).
func trainAnomaly(ctx context.Context, admin *session, from, to time.Time) (m *anomalyModel, unavailable string, err error) {
	var schema struct {
		Schema struct{ MutationType struct{ Fields []gqlField } } `json:"__schema"`
	}
	if err := admin.call(ctx, introspectMutations, nil, &schema); err != nil {
		return nil, "", fmt.Errorf("introspect mutations: %w", err)
	}
	fields := schema.Schema.MutationType.Fields
	at := slices.IndexFunc(fields, func(f gqlField) bool { return f.Name == "trainAnomalyModel" })
	if at < 0 {
		return nil, "the server has no trainAnomalyModel mutation", nil
	}
	train := fields[at]
	result, err := typeFields(ctx, admin, train.Type.named(), false)
	if err != nil {
		return nil, "", err
	}
	if !slices.Contains(result, "id") {
		return nil, fmt.Sprintf("trainAnomalyModel returns %s without an id", train.Type.named()), nil
	}
	selection := "id"
	if slices.Contains(result, "version") {
		selection += " version"
	}
	var decls, args []string
	vars := map[string]any{}
	for _, a := range train.Args {
		if a.Name != "input" {
			continue
		}
		inputs, err := typeFields(ctx, admin, a.Type.named(), true)
		if err != nil {
			return nil, "", err
		}
		in := map[string]any{}
		if slices.Contains(inputs, "from") && slices.Contains(inputs, "to") {
			in["from"], in["to"] = from.Format(time.RFC3339), to.Format(time.RFC3339)
		}
		decls, args, vars["in"] = append(decls, "$in: "+a.Type.typeRef()), append(args, "input: $in"), in
	}
	mutation := "mutation { trainAnomalyModel { " + selection + " } }"
	if len(decls) > 0 {
		mutation = fmt.Sprintf("mutation(%s) { trainAnomalyModel(%s) { %s } }", strings.Join(decls, ", "), strings.Join(args, ", "), selection)
	}
	var out struct {
		TrainAnomalyModel struct {
			ID      string
			Version any
		}
	}
	started := time.Now()
	if err := admin.call(ctx, mutation, vars, &out); err != nil {
		// The rest of the table is still worth having.
		log.Printf("training: anomaly model: %v", err)
		return nil, "trainAnomalyModel failed: " + err.Error(), nil
	}
	m = &anomalyModel{id: out.TrainAnomalyModel.ID, activate: activateMutation}
	if v := out.TrainAnomalyModel.Version; v != nil {
		m.version = fmt.Sprint("v", v)
	}
	if i := slices.IndexFunc(fields, func(f gqlField) bool { return f.Name == "activateAnomalyModel" }); i >= 0 {
		m.activate = `mutation($id: ID!) { activateAnomalyModel(id: $id) }`
		if k := fields[i].Type.leafKind(); k == "OBJECT" || k == "INTERFACE" {
			m.activate = `mutation($id: ID!) { activateAnomalyModel(id: $id) { __typename } }`
		}
	}
	log.Printf("training: %s trained in %.1f s", m.summary(), time.Since(started).Seconds())
	return m, "", nil
}

// typeFields names an object type's fields, or an input type's.
func typeFields(ctx context.Context, admin *session, name string, input bool) ([]string, error) {
	var out struct {
		Type *struct {
			Fields, InputFields []struct{ Name string }
		} `json:"__type"`
	}
	if err := admin.call(ctx, introspectType, map[string]any{"n": name}, &out); err != nil {
		return nil, fmt.Errorf("introspect %s: %w", name, err)
	}
	if out.Type == nil {
		return nil, nil
	}
	list := out.Type.Fields
	if input {
		list = out.Type.InputFields
	}
	var names []string
	for _, f := range list {
		names = append(names, f.Name)
	}
	return names, nil
}

// switchOn activates the anomaly model.
func (m *anomalyModel) switchOn(ctx context.Context, admin *session) error {
	if err := admin.call(ctx, m.activate, map[string]any{"id": m.id}, nil); err != nil {
		return fmt.Errorf("activate %s: %w", m.summary(), err)
	}
	return nil
}
