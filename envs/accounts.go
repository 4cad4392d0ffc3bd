package envs

import (
	"errors"
	"fmt"
)

// separation checks that an environment with retain_data has an account no environment
// without it (local-only ones aside) shares: PCI DSS keeps the cardholder-data environment
// apart from development and test.
func separation(list []Env) []error {
	var errs []error
	for _, r := range list {
		if !r.RetainData || r.Account == "" {
			continue
		}
		for _, o := range list {
			if !o.RetainData && !o.LocalOnly && o.Account == r.Account {
				errs = append(errs, fmt.Errorf("%s: account: %s is also the account of %s (%s), which does not retain data: an environment with retain_data: true needs an AWS account of its own (PCI DSS environment separation)",
					r.accountAt, r.Account, o.Name, o.accountAt))
			}
		}
	}
	return errs
}

// CheckPipelineAccount refuses an environment the pipeline deploys into the pipeline's own
// account: a merged commit deploys there before any approval, with the rights the pipeline
// holds, so no workload runs beside the pipeline.
func CheckPipelineAccount(list []Env, p Pipeline) error {
	var errs []error
	for _, e := range list {
		if e.Deployable() && e.Account == p.Account {
			errs = append(errs, fmt.Errorf("%s: account: %s is the pipeline's account (envs/%s): no environment runs there, since a merged commit would reach it before any approval with the pipeline's rights; give it an account of its own (dev and staging may share a non-production account)",
				e.accountAt, e.Account, PipelineFile))
		}
	}
	return errors.Join(errs...)
}
