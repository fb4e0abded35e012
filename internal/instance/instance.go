// Package instance creates the deployment's one Identity Center instance on
// first start: its instance ID, identity-store ID, start URL and the
// management account that owns it (spec/identifiers.md §2–3). Later starts
// find and reuse it.
package instance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Options say how to create the instance if there is none yet.
type Options struct {
	Region   string
	StartURL string // empty: https://<identity-store-id>.awsapps.com/start
	IDs      arn.Generator
	Now      func() time.Time
	Audit    *audit.Recorder
}

// ManagementAccountName is the name of the account created at bootstrap.
const ManagementAccountName = "management"

// Bootstrap returns the stored instance, creating it and its management
// account first if this is the first start. created reports whether it did.
func Bootstrap(ctx context.Context, st store.Store, o Options) (in *store.Instance, created bool, err error) {
	in, err = st.GetInstance(ctx)
	if err == nil {
		return in, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, false, fmt.Errorf("get instance: %w", err)
	}
	now := o.Now().UTC()
	in = &store.Instance{
		InstanceID:          o.IDs.InstanceID(),
		IdentityStoreID:     o.IDs.IdentityStoreID(),
		ManagementAccountID: o.IDs.AccountID(),
		Name:                "gatehouse",
		Region:              o.Region,
		StartURL:            o.StartURL,
		CreatedAt:           now,
	}
	if in.StartURL == "" {
		in.StartURL = "https://" + in.IdentityStoreID + ".awsapps.com/start"
	}
	acct := &store.Account{ID: in.ManagementAccountID, Name: ManagementAccountName, Email: "management@gatehouse.invalid", CreatedAt: now}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateInstance(ctx, in); err != nil {
			return err
		}
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return err
		}
		o.Audit.Account = in.ManagementAccountID
		return o.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceSSO, Name: "CreateInstance", Type: "AwsServiceEvent",
			Response: map[string]string{"instanceArn": arn.InstanceARN(in.InstanceID), "identityStoreId": in.IdentityStoreID},
		})
	})
	if errors.Is(err, store.ErrConflict) {
		// Another replica bootstrapped at the same moment: use its instance.
		in, err = st.GetInstance(ctx)
		return in, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("create instance: %w", err)
	}
	return in, true, nil
}
