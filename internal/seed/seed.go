// Package seed loads a declarative world file (accounts, users, groups,
// permission sets, assignments) through the directory and access services,
// idempotently. examples/demo-world.yaml documents the format.
package seed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// World is the content of a world file.
type World struct {
	Accounts       []Account       `yaml:"accounts"`
	Users          []User          `yaml:"users"`
	Groups         []Group         `yaml:"groups"`
	PermissionSets []PermissionSet `yaml:"permission_sets"`
	// CustomerPolicies are customer-managed policy documents stored in
	// accounts, for permission sets that refer to them by name and path.
	CustomerPolicies []CustomerPolicy `yaml:"customer_policies"`
	Assignments      []Assignment     `yaml:"assignments"`
}

// CustomerPolicy is a customer-managed policy entry.
type CustomerPolicy struct {
	// Line is the entry's line in the file (0 when not read from one).
	Line     int    `yaml:"-"`
	Account  string `yaml:"account"` // name or ID
	Name     string `yaml:"name"`
	Path     string `yaml:"path"` // default /
	Document string `yaml:"document"`
}

// Account is an account entry.
type Account struct {
	// Line is the entry's line in the file (0 when not read from one).
	Line  int    `yaml:"-"`
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
}

// User is a user entry.
type User struct {
	// Line is the entry's line in the file (0 when not read from one).
	Line        int    `yaml:"-"`
	UserName    string `yaml:"user_name"`
	GivenName   string `yaml:"given_name"`
	FamilyName  string `yaml:"family_name"`
	DisplayName string `yaml:"display_name"`
	Email       string `yaml:"email"`
	Password    string `yaml:"password"`
}

// Group is a group entry.
type Group struct {
	// Line is the entry's line in the file (0 when not read from one).
	Line        int      `yaml:"-"`
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Members     []string `yaml:"members"`
}

// PermissionSet is a permission-set entry.
type PermissionSet struct {
	// Line is the entry's line in the file (0 when not read from one).
	Line            int      `yaml:"-"`
	Name            string   `yaml:"name"`
	Description     string   `yaml:"description"`
	SessionDuration string   `yaml:"session_duration"`
	RelayState      string   `yaml:"relay_state"`
	ManagedPolicies []string `yaml:"managed_policies"`
	// CustomerPolicies are references (name and path) to customer-managed
	// policies, resolved in each account the set is assigned in.
	CustomerPolicies []store.PolicyRef `yaml:"customer_policies"`
	InlinePolicy     string            `yaml:"inline_policy"`
}

// Assignment is an assignment entry: exactly one of User and Group is set.
type Assignment struct {
	// Line is the entry's line in the file (0 when not read from one).
	Line          int    `yaml:"-"`
	Account       string `yaml:"account"`
	PermissionSet string `yaml:"permission_set"`
	User          string `yaml:"user"`
	Group         string `yaml:"group"`
}

// kindNames are the world file's names of the types Parse decodes into.
var kindNames = map[string]string{
	"seed.World": "at the top level", "seed.Account": "in account", "seed.User": "in user", "seed.Group": "in group",
	"seed.PermissionSet": "in permission set", "seed.CustomerPolicy": "in customer policy", "seed.Assignment": "in assignment",
	"store.PolicyRef": "in customer policy reference",
}

var (
	unknownFieldRe = regexp.MustCompile(`field (\S+) not found in type (\S+)`)
	cannotRe       = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
)

// typeErrors words yaml's decoding errors as the file says things
// ("line 3: unknown field sesion in permission set"), without Go types.
func typeErrors(te *yaml.TypeError) string {
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		e = unknownFieldRe.ReplaceAllStringFunc(e, func(m string) string {
			sub := unknownFieldRe.FindStringSubmatch(m)
			where, ok := kindNames[sub[2]]
			if !ok {
				where = "here"
			}
			return "unknown field " + sub[1] + " " + where
		})
		e = cannotRe.ReplaceAllStringFunc(e, func(m string) string {
			sub := cannotRe.FindStringSubmatch(m)
			want := "a different kind of value"
			switch t := sub[3]; {
			case strings.HasPrefix(t, "[]"):
				want = "a list"
			case t == "string":
				want = "a text value"
			case t == "int" || t == "int64":
				want = "a whole number"
			case t == "bool":
				want = "true or false"
			case strings.Contains(t, "."):
				want = "a mapping of fields"
			}
			return fmt.Sprintf("%q is not valid here: %s is expected", sub[2], want)
		})
		msgs[i] = e
	}
	return strings.Join(msgs, "; ")
}

// Parse decodes a world file strictly: unknown fields are errors. Each
// entry learns its line, so that later errors can name it; every error
// names the line first ("line N: ...", as the plan's *LineError does, so
// that every error of a file reads alike after the file's name).
func Parse(data []byte) (*World, error) {
	var w World
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil && !errors.Is(err, io.EOF) {
		if te, ok := errors.AsType[*yaml.TypeError](err); ok {
			return nil, errors.New(typeErrors(te))
		}
		return nil, yamlError(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(err)
	}
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		m := doc.Content[0].Content
		for i := 0; i+1 < len(m); i += 2 {
			switch list := m[i+1]; m[i].Value {
			case "accounts":
				setLines(w.Accounts, list, func(e *Account) *int { return &e.Line })
			case "users":
				setLines(w.Users, list, func(e *User) *int { return &e.Line })
			case "groups":
				setLines(w.Groups, list, func(e *Group) *int { return &e.Line })
			case "permission_sets":
				setLines(w.PermissionSets, list, func(e *PermissionSet) *int { return &e.Line })
			case "customer_policies":
				setLines(w.CustomerPolicies, list, func(e *CustomerPolicy) *int { return &e.Line })
			case "assignments":
				setLines(w.Assignments, list, func(e *Assignment) *int { return &e.Line })
			}
		}
	}
	var errs []error
	seen := map[string]int{}
	unique := func(kind, key string, line int) {
		if key == "" {
			field := "name"
			if kind == "account" {
				field = "id"
			}
			errs = append(errs, atLine(line, "%s without a %s", kind, field))
			return
		}
		if first, ok := seen[kind+"\x00"+key]; ok {
			errs = append(errs, atLine(line, "%s %q appears twice (first at line %d)", kind, key, first))
			return
		}
		seen[kind+"\x00"+key] = line
	}
	for _, a := range w.Accounts {
		unique("account", a.ID, a.Line)
	}
	for _, u := range w.Users {
		unique("user", u.UserName, u.Line)
	}
	for _, g := range w.Groups {
		unique("group", g.Name, g.Line)
	}
	for _, p := range w.PermissionSets {
		unique("permission set", p.Name, p.Line)
	}
	for i, a := range w.Assignments {
		if (a.User == "") == (a.Group == "") {
			errs = append(errs, atLine(a.Line, "assignments[%d]: set exactly one of user and group", i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &w, nil
}

// setLines gives each of entries the line of its item in the yaml list
// node (0 for an entry the node has no item for).
func setLines[T any](entries []T, list *yaml.Node, line func(*T) *int) {
	for j := range entries {
		l := 0
		if j < len(list.Content) {
			l = list.Content[j].Line
		}
		*line(&entries[j]) = l
	}
}

// yamlError is a syntax error of the yaml package without its "yaml: "
// prefix, so that it starts with its line.
func yamlError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

// Loader applies worlds.
type Loader struct {
	Directory *directory.Service
	Access    *access.Service
	Instance  *store.Instance
	// Password is given to users that have none and name none.
	Password string
}

// Result counts what a load changed.
type Result struct {
	Created, Updated, Deleted int
	Passwords                 int // users whose password was set
	// DefaultPasswords counts the users of Passwords that got the
	// Loader's Password (they named none).
	DefaultPasswords int
}

// Changes counts every change of the load: records created, updated and
// deleted, and passwords set.
func (r Result) Changes() int { return r.Created + r.Updated + r.Deleted + r.Passwords }

// assignment resolves a's permission set and principal by name, for an
// assignment on the account acct.
func (l *Loader) assignment(ctx context.Context, acct string, a Assignment) (access.AssignmentInput, error) {
	var in access.AssignmentInput
	ps, err := l.Access.GetPermissionSetByName(ctx, a.PermissionSet)
	if err != nil {
		return in, fmt.Errorf("permission set %q: %w", a.PermissionSet, err)
	}
	in = access.AssignmentInput{AccountID: acct, PermissionSetID: ps.ID}
	if a.User != "" {
		u, err := l.Directory.GetUserByName(ctx, a.User)
		if err != nil {
			return in, fmt.Errorf("user %q: %w", a.User, err)
		}
		in.PrincipalType, in.PrincipalID = store.PrincipalUser, u.ID
		return in, nil
	}
	g, err := l.Directory.GetGroupByName(ctx, a.Group)
	if err != nil {
		return in, fmt.Errorf("group %q: %w", a.Group, err)
	}
	in.PrincipalType, in.PrincipalID = store.PrincipalGroup, g.ID
	return in, nil
}
