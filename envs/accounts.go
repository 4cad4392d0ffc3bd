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

// CheckPipelineAccount refuses an environment with retain_data in the pipeline's account,
// where every environment without an account of its own deploys.
func CheckPipelineAccount(list []Env, p Pipeline) error {
	var errs []error
	for _, e := range list {
		if e.RetainData && e.Account == p.Account {
			errs = append(errs, fmt.Errorf("%s: account: %s is the pipeline's account (envs/%s), where every environment without an account deploys: an environment with retain_data: true needs an AWS account of its own (PCI DSS environment separation)",
				e.accountAt, e.Account, PipelineFile))
		}
	}
	return errors.Join(errs...)
}
