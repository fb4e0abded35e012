package mail

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// DefaultOutboxSize is how many messages the outbox keeps: the newest.
const DefaultOutboxSize = 200

// outboxStore is the part of the store the outbox uses.
type outboxStore interface {
	AppendOutbox(ctx context.Context, m *store.OutboxMessage, keep int) error
	ListOutbox(ctx context.Context, limit int) ([]store.OutboxMessage, error)
}

// Outbox keeps the e-mail that could not be sent for lack of an SMTP
// server, newest first, for administrators to read and forward. Its
// messages hold live links, so only administrators may see it.
type Outbox struct {
	Store outboxStore
	IDs   arn.Generator
	Now   func() time.Time
	// Size is how many messages are kept; 0 means DefaultOutboxSize.
	Size int
}

// Append keeps msg.
func (o *Outbox) Append(ctx context.Context, msg Message) error {
	size := o.Size
	if size <= 0 {
		size = DefaultOutboxSize
	}
	now := o.Now().UTC()
	m := &store.OutboxMessage{ID: o.IDs.TimeUUID(now), To: msg.To, Subject: msg.Subject, Body: msg.Body, CreatedAt: now}
	if err := o.Store.AppendOutbox(ctx, m, size); err != nil {
		return fmt.Errorf("keep e-mail to %s in the outbox: %w", msg.To, err)
	}
	return nil
}

// List returns the newest limit messages (0: all kept), newest first.
func (o *Outbox) List(ctx context.Context, limit int) ([]store.OutboxMessage, error) {
	return o.Store.ListOutbox(ctx, limit)
}
