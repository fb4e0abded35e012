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

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/instance"
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
	Account  string `yaml:"account"` // name or ID
	Name     string `yaml:"name"`
	Path     string `yaml:"path"` // default /
	Document string `yaml:"document"`
}

// Account is an account entry.
type Account struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
}

// User is a user entry.
type User struct {
	UserName    string `yaml:"user_name"`
	GivenName   string `yaml:"given_name"`
	FamilyName  string `yaml:"family_name"`
	DisplayName string `yaml:"display_name"`
	Email       string `yaml:"email"`
	Password    string `yaml:"password"`
}

// Group is a group entry.
type Group struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Members     []string `yaml:"members"`
}

// PermissionSet is a permission-set entry.
type PermissionSet struct {
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
	Account       string `yaml:"account"`
	PermissionSet string `yaml:"permission_set"`
	User          string `yaml:"user"`
	Group         string `yaml:"group"`
}

// Parse decodes a world file strictly: unknown fields are errors.
func Parse(data []byte) (*World, error) {
	var w World
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("world file: %w", err)
	}
	for i, a := range w.Assignments {
		if (a.User == "") == (a.Group == "") {
			return nil, fmt.Errorf("world file: assignments[%d]: set exactly one of user and group", i)
		}
	}
	return &w, nil
}

// Loader applies worlds.
type Loader struct {
	Directory *directory.Service
	Access    *access.Service
	Instance  *store.Instance
	// Password is given to users that have none and name none.
	Password string
}

// Result counts what a load created.
type Result struct {
	Created   int
	Passwords int // users whose password was set
	// DefaultPasswords counts the users of Passwords that got the
	// Loader's Password (they named none).
	DefaultPasswords int
}

// Changes counts every change of the load: new records and passwords set.
func (r Result) Changes() int { return r.Created + r.Passwords }

// Load creates what w describes and is missing.
func (l *Loader) Load(ctx context.Context, w *World) (Result, error) {
	var res Result
	accounts := map[string]string{instance.ManagementAccountName: l.Instance.ManagementAccountID}
	for _, a := range w.Accounts {
		if _, err := l.Access.GetAccount(ctx, a.ID); fault.KindOf(err) == fault.NotFound {
			if _, err := l.Access.CreateAccount(ctx, a.ID, a.Name, a.Email); err != nil {
				return res, fmt.Errorf("account %s: %w", a.Name, err)
			}
			res.Created++
		} else if err != nil {
			return res, fmt.Errorf("account %s: %w", a.Name, err)
		}
		accounts[a.Name] = a.ID
		accounts[a.ID] = a.ID
	}
	for i, p := range w.CustomerPolicies {
		acct, ok := accounts[p.Account]
		if !ok {
			acct = p.Account
		}
		if err := l.Access.PutCustomerPolicy(ctx, acct, store.PolicyRef{Name: p.Name, Path: p.Path}, p.Document); err != nil {
			return res, fmt.Errorf("customer_policies[%d] %s: %w", i, p.Name, err)
		}
	}
	users := map[string]string{}
	for _, u := range w.Users {
		got, err := l.Directory.GetUserByName(ctx, u.UserName)
		if fault.KindOf(err) == fault.NotFound {
			in := directory.CreateUserInput{
				UserName: u.UserName, DisplayName: u.DisplayName,
				// Only what the file names: DescribeUser must not show
				// attributes nobody set (no Name.Formatted made up from
				// the parts), or a Terraform import plans a change.
				Name: store.UserName{GivenName: u.GivenName, FamilyName: u.FamilyName},
			}
			if u.Email != "" {
				in.Emails = []store.Email{{Value: u.Email, Type: "work", Primary: true}}
			}
			if got, err = l.Directory.CreateUser(ctx, in); err != nil {
				return res, fmt.Errorf("user %s: %w", u.UserName, err)
			}
			res.Created++
		} else if err != nil {
			return res, fmt.Errorf("user %s: %w", u.UserName, err)
		}
		users[u.UserName] = got.ID
		pw := u.Password
		if pw == "" {
			pw = l.Password
		}
		if got.PasswordHash == "" && pw != "" {
			if err := l.Directory.SetPassword(ctx, got.ID, pw); err != nil {
				return res, fmt.Errorf("user %s: %w", u.UserName, err)
			}
			res.Passwords++
			if u.Password == "" {
				res.DefaultPasswords++
			}
		}
	}
	groups := map[string]string{}
	for _, g := range w.Groups {
		got, err := l.Directory.GetGroupByName(ctx, g.Name)
		if fault.KindOf(err) == fault.NotFound {
			if got, err = l.Directory.CreateGroup(ctx, g.Name, g.Description); err != nil {
				return res, fmt.Errorf("group %s: %w", g.Name, err)
			}
			res.Created++
		} else if err != nil {
			return res, fmt.Errorf("group %s: %w", g.Name, err)
		}
		groups[g.Name] = got.ID
		for _, m := range g.Members {
			uid, err := l.userID(ctx, users, m)
			if err != nil {
				return res, fmt.Errorf("group %s: member %s: %w", g.Name, m, err)
			}
			if _, err := l.Directory.FindMembership(ctx, got.ID, uid); fault.KindOf(err) == fault.NotFound {
				if _, err := l.Directory.AddMember(ctx, got.ID, uid); err != nil {
					return res, fmt.Errorf("group %s: member %s: %w", g.Name, m, err)
				}
				res.Created++
			} else if err != nil {
				return res, fmt.Errorf("group %s: member %s: %w", g.Name, m, err)
			}
		}
	}
	sets := map[string]string{}
	for _, p := range w.PermissionSets {
		got, err := l.Access.GetPermissionSetByName(ctx, p.Name)
		if fault.KindOf(err) == fault.NotFound {
			got, err = l.Access.CreatePermissionSet(ctx, access.PermissionSetInput{
				Name: p.Name, Description: p.Description, SessionDuration: p.SessionDuration, RelayState: p.RelayState,
			})
			if err != nil {
				return res, fmt.Errorf("permission set %s: %w", p.Name, err)
			}
			res.Created++
			for _, m := range p.ManagedPolicies {
				if err := l.Access.AttachManagedPolicy(ctx, got.ID, m); err != nil {
					return res, fmt.Errorf("permission set %s: %w", p.Name, err)
				}
			}
			for _, ref := range p.CustomerPolicies {
				if err := l.Access.AttachCustomerPolicy(ctx, got.ID, ref); err != nil {
					return res, fmt.Errorf("permission set %s: %w", p.Name, err)
				}
			}
			if p.InlinePolicy != "" {
				if err := l.Access.PutInlinePolicy(ctx, got.ID, p.InlinePolicy); err != nil {
					return res, fmt.Errorf("permission set %s: %w", p.Name, err)
				}
			}
		} else if err != nil {
			return res, fmt.Errorf("permission set %s: %w", p.Name, err)
		}
		sets[p.Name] = got.ID
	}
	for i, a := range w.Assignments {
		in, err := l.assignment(ctx, accounts, users, groups, sets, a)
		if err != nil {
			return res, fmt.Errorf("assignments[%d]: %w", i, err)
		}
		existing, err := l.Access.ListAssignments(ctx, store.AssignmentFilter{
			AccountID: in.AccountID, PermissionSetID: in.PermissionSetID, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalID})
		if err != nil {
			return res, fmt.Errorf("assignments[%d]: %w", i, err)
		}
		if len(existing) > 0 {
			continue
		}
		// An account closed through the organizations API stays closed:
		// its assignments are not recreated.
		if acct, err := l.Access.GetAccount(ctx, in.AccountID); err != nil {
			return res, fmt.Errorf("assignments[%d]: %w", i, err)
		} else if acct.State != "" && acct.State != store.AccountActive {
			continue
		}
		op, err := l.Access.CreateAssignment(ctx, in)
		if err != nil {
			return res, fmt.Errorf("assignments[%d]: %w", i, err)
		}
		if op.Status != store.StatusSucceeded {
			return res, fmt.Errorf("assignments[%d]: %s", i, op.FailureReason)
		}
		res.Created++
	}
	return res, nil
}

func (l *Loader) userID(ctx context.Context, known map[string]string, name string) (string, error) {
	if id, ok := known[name]; ok {
		return id, nil
	}
	u, err := l.Directory.GetUserByName(ctx, name)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

func (l *Loader) assignment(ctx context.Context, accounts, users, groups, sets map[string]string, a Assignment) (access.AssignmentInput, error) {
	var in access.AssignmentInput
	acct, ok := accounts[a.Account]
	if !ok {
		acct = a.Account // an account ID that exists but is not in this file
		if _, err := l.Access.GetAccount(ctx, acct); err != nil {
			return in, fmt.Errorf("account %q: %w", a.Account, err)
		}
	}
	ps, ok := sets[a.PermissionSet]
	if !ok {
		got, err := l.Access.GetPermissionSetByName(ctx, a.PermissionSet)
		if err != nil {
			return in, fmt.Errorf("permission set %q: %w", a.PermissionSet, err)
		}
		ps = got.ID
	}
	in = access.AssignmentInput{AccountID: acct, PermissionSetID: ps}
	if a.User != "" {
		id, err := l.userID(ctx, users, a.User)
		if err != nil {
			return in, fmt.Errorf("user %q: %w", a.User, err)
		}
		in.PrincipalType, in.PrincipalID = store.PrincipalUser, id
		return in, nil
	}
	id, ok := groups[a.Group]
	if !ok {
		g, err := l.Directory.GetGroupByName(ctx, a.Group)
		if err != nil {
			return in, fmt.Errorf("group %q: %w", a.Group, err)
		}
		id = g.ID
	}
	in.PrincipalType, in.PrincipalID = store.PrincipalGroup, id
	return in, nil
}
