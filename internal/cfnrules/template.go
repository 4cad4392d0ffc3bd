// Package cfnrules checks a synthesized CloudFormation template against the rules that
// CloudFormation and the AWS services enforce only at deploy time, so that a template which
// AWS would refuse, or which would deploy but not work, is refused at synth instead:
//
//   - no dependency cycle, counting every edge CloudFormation counts (Ref, Fn::GetAtt,
//     Fn::Sub and DependsOn, inside Properties, UpdatePolicy, CreationPolicy and Metadata);
//     a cycle is reported as a path of logical ids and construct paths;
//   - every Ref, Fn::GetAtt, Fn::Sub and DependsOn target exists; logical ids are
//     alphanumeric; CloudFormation's quotas (resources, outputs, parameters, mappings,
//     template size) hold;
//   - every alarm can deliver: each SNS alarm action's topic policy lets CloudWatch publish
//     and, for a topic encrypted with a key of the template, the key policy lets CloudWatch
//     use the key;
//   - every Lambda event source and integration is allowed: API Gateway and EventBridge have
//     a lambda:InvokeFunction permission naming exactly the function or alias they call, and
//     each SQS event source's function role may receive and delete on its queue.
//
// Templates are read through internal/cfn, payhook's one model of a template. The package
// reads JSON only (no jsii, no network), so `mage synth` runs it on every template it
// writes. Policies are evaluated with AWS's documented order (an explicit Deny wins, then
// an Allow, else the implicit deny) for the request the AWS service would make.
package cfnrules

import (
	"errors"
	"fmt"

	"github.com/payhook/payhook/internal/cfn"
)

// Template is a template under check: the model's template, with the rules' helpers.
type Template struct{ *cfn.Template }

// CheckAssembly checks every stack template of the cloud assembly in dir. It returns the
// reports of all of them, and an error listing every finding when any template fails.
func CheckAssembly(dir string) ([]Report, error) {
	list, err := cfn.Stacks(dir)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("cloud assembly %s holds no stack template", dir)
	}
	var reports []Report
	var errs []error
	for _, st := range list {
		t, err := cfn.Load(st)
		if err != nil {
			// An unreadable template fails the gate like a broken one, and is removed too.
			r := Report{Template: st.ID, File: st.File, Findings: []Finding{{RuleReference, err.Error()}}}
			reports = append(reports, r)
			errs = append(errs, r.Err())
			continue
		}
		r := Check(t)
		r.File = st.File
		reports = append(reports, r)
		if err := r.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return reports, errors.Join(errs...)
}
