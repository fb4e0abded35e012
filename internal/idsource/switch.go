package idsource

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Preview is what a kind knows ahead of a switch about the people it would
// bring: for LDAP, a dry run of the sync.
type Preview struct {
	// Matched are existing users (by user name or external ID) the source
	// would take over, keeping their assignments.
	Matched []string
	// New are upstream user names that would be created.
	New []string
	// Unmatched are existing users the source does not know: they keep
	// their records and assignments but cannot sign in through it.
	Unmatched []string
}

// Plan is what switching the identity source would change, shown before
// the switch happens.
type Plan struct {
	From, To string
	// Users is how many users the identity store holds.
	Users int
	// Passwords is how many users have a Gatehouse password that the new
	// source stops using: only when switching away from the built-in
	// directory (under LDAP, SAML or OIDC they are unused already).
	Passwords int
	// MFADevices is how many registered authenticators stop being used
	// (switching to an external identity provider, whose MFA applies).
	MFADevices int
	// Preview is the new kind's own preview, when it has one.
	Preview *Preview
	// Notes say the rest in words.
	Notes []string
	// Actor is the user name of the person planning the switch (the
	// signed-in administrator), "" when the caller is no user.
	Actor string
	// Warnings are lockouts the switch risks, to show prominently: the
	// actor (or every existing user) not matched by the new source, a
	// preview that failed, the identity provider deciding who keeps a
	// user. Empty when none.
	Warnings []string
	// PreviewError is why the new kind's preview failed ("" when it
	// worked or the kind has none): switching now would stop every
	// sign-in until the source can be read, so the console asks for an
	// extra confirmation.
	PreviewError string
}

// breakGlass is the command that switches back to the built-in directory
// on the server when no administrator can sign in.
const breakGlass = "gatehouse identity-source switch directory"

// PlanSwitch returns what switching to kind would change, changing
// nothing. Switching to the kind already active, or to a kind never
// configured, is a Validation fault.
func (s *Service) PlanSwitch(ctx context.Context, kind string) (*Plan, error) {
	from, err := s.ActiveKind(ctx)
	if err != nil {
		return nil, err
	}
	if kind != Directory && s.kinds[kind] == nil {
		return nil, fault.Validationf("Identity source kind %q is not one of %s, %s", kind, Directory, joinNames(s.names()))
	}
	if kind == from {
		return nil, fault.Validationf("The %s identity source is already active", kind)
	}
	if kind != Directory {
		if _, err := s.Store.GetIdentitySource(ctx, kind); errors.Is(err, store.ErrNotFound) {
			return nil, fault.Validationf("Configure the %s identity source before switching to it", kind)
		} else if err != nil {
			return nil, err
		}
	}
	p := &Plan{From: from, To: kind}
	if id := audit.ActorFrom(ctx).Identity; id.UserID != "" {
		if u, err := s.Store.GetUser(ctx, id.UserID); err == nil {
			p.Actor = u.UserName
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	var after string
	for {
		users, err := s.Store.ListUsers(ctx, store.Page{After: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			p.Users++
			if u.PasswordHash != "" && kind != Directory && from == Directory {
				p.Passwords++
			}
			if kind == SAML || kind == OIDC {
				ds, err := s.Store.ListMFADevices(ctx, u.ID)
				if err != nil {
					return nil, err
				}
				p.MFADevices += len(ds)
			}
		}
		if len(users) < 500 {
			break
		}
		after = users[len(users)-1].ID
	}
	switch kind {
	case Directory:
		p.Notes = append(p.Notes, "People sign in with Gatehouse passwords and MFA again; users who never set a password need a password reset or an invitation.")
	case SAML, OIDC:
		p.Notes = append(p.Notes,
			"People sign in at the identity provider; Gatehouse passwords and authenticators stay stored but are not used.",
			"A person is matched to an existing user by external ID, then by user name, at their first sign-in: matched users keep their group memberships and assignments.",
			"Users the identity provider does not know keep their records and assignments but cannot sign in.")
	case LDAP:
		p.Notes = append(p.Notes,
			"People sign in with their directory password (an LDAP bind); Gatehouse's MFA policy still applies.",
			"Directory users are matched to existing users by external ID, then by user name: matched users keep their assignments.")
	}
	p.Notes = append(p.Notes, "Portal sessions already started continue until they end or are ended.")
	if k := s.kinds[kind]; k != nil && k.Preview != nil {
		pv, err := k.Preview(ctx)
		if err != nil {
			p.PreviewError = err.Error()
			p.Notes = append(p.Notes, fmt.Sprintf("The %s preview failed: %v", kind, err))
		} else {
			p.Preview = pv
		}
	}
	p.Warnings = lockouts(p)
	return p, nil
}

// lockouts are p's warnings: who would be unable to sign in after the
// switch, and how to undo it from the server.
func lockouts(p *Plan) []string {
	var ws []string
	switch {
	case p.PreviewError != "":
		ws = append(ws, fmt.Sprintf("The %s source could not be read: %s. After the switch nobody can sign in until it can be "+
			"(sessions already started go on); fix its settings first. The break glass is `%s` on the server.", p.To, p.PreviewError, breakGlass))
	case p.Preview != nil:
		if p.Actor != "" && slices.Contains(p.Preview.Unmatched, p.Actor) {
			ws = append(ws, fmt.Sprintf("You (%s) are not matched by the %s source: you cannot sign in after the switch once your session ends. "+
				"The break glass is `%s` on the server.", p.Actor, p.To, breakGlass))
		}
		if len(p.Preview.Matched) == 0 && p.Users > 0 {
			ws = append(ws, fmt.Sprintf("No existing user is matched by the %s source, so no administrator of today can sign in after the switch "+
				"(new users have no assignments yet). The break glass is `%s` on the server.", p.To, breakGlass))
		}
	case p.To == SAML || p.To == OIDC:
		w := "Only people the identity provider signs in with a matching user name or external ID keep their user and assignments"
		if p.Actor != "" {
			w += fmt.Sprintf(": you keep yours only if the provider's user name for you is %q", p.Actor)
		}
		ws = append(ws, w+fmt.Sprintf(". If no administrator is matched, the break glass is `%s` on the server.", breakGlass))
	}
	return ws
}

func joinNames(ns []string) string {
	out := ""
	for i, n := range ns {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// Switch makes kind the active identity source, as the actor in ctx, with
// an audit event (SwitchIdentitySource), and returns the plan it carried
// out. It refuses what PlanSwitch refuses.
func (s *Service) Switch(ctx context.Context, kind string) (*Plan, error) {
	p, err := s.PlanSwitch(ctx, kind)
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.ActivateIdentitySource(ctx, kind); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceGatehouse, Name: "SwitchIdentitySource",
			Params: map[string]any{"from": p.From, "to": p.To, "users": p.Users},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("switch identity source: %w", err)
	}
	s.Log.Info("identity source switched", "from", p.From, "to", p.To)
	return p, nil
}
