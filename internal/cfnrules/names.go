package cfnrules

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
)

// RulePhysicalName is the cross-template rule: no two stacks that can share an account and
// region claim the same explicit physical name.
const RulePhysicalName = "physical-name"

// nameScope is where AWS keeps a kind of name unique.
type nameScope int

const (
	regional nameScope = iota // per account and region
	account                   // per account, every region (IAM, CloudWatch dashboards)
)

// namedKind is the property holding a resource type's explicit physical name.
type namedKind struct {
	property string
	scope    nameScope
	// space groups types whose names share one namespace (a log group's name is unique
	// among log groups only); "" is the type itself.
	space string
}

// physicalNames lists the resource types whose explicit names AWS keeps unique, and the
// property that holds the name. Types whose names may repeat (a REST API's, an API key's,
// a usage plan's) are absent.
var physicalNames = map[string]namedKind{
	"AWS::Lambda::Function":                        {"FunctionName", regional, ""},
	"AWS::SQS::Queue":                              {"QueueName", regional, ""},
	"AWS::SNS::Topic":                              {"TopicName", regional, ""},
	"AWS::DynamoDB::Table":                         {"TableName", regional, ""},
	"AWS::SecretsManager::Secret":                  {"Name", regional, ""},
	"AWS::Logs::LogGroup":                          {"LogGroupName", regional, ""},
	"AWS::WAFv2::WebACL":                           {"Name", regional, ""},
	"AWS::WAFv2::IPSet":                            {"Name", regional, ""},
	"AWS::CodeBuild::Project":                      {"Name", regional, ""},
	"AWS::CodePipeline::Pipeline":                  {"Name", regional, ""},
	"AWS::CodeStarNotifications::NotificationRule": {"Name", regional, ""},
	"AWS::Events::Rule":                            {"Name", regional, ""},
	"AWS::KMS::Alias":                              {"AliasName", regional, ""},
	"AWS::CloudWatch::Alarm":                       {"AlarmName", regional, ""},
	"AWS::CloudWatch::Dashboard":                   {"DashboardName", account, ""},
	"AWS::IAM::Role":                               {"RoleName", account, ""},
	"AWS::IAM::ManagedPolicy":                      {"ManagedPolicyName", account, ""},
	"AWS::IAM::User":                               {"UserName", account, ""},
}

// stackType stands for the stack itself: its name is unique per account and region.
const stackType = "AWS::CloudFormation::Stack"

// claim is one explicit physical name a stack's resource claims.
type claim struct {
	stack            cfn.Stack
	template         *cfn.Template
	logicalID        string
	account, region  string
	scope            nameScope
	space, name, how string
}

func (c claim) describe() string {
	stack := c.stack.StackName
	if stack == "" {
		stack = c.stack.ID
	}
	what := "stack " + stack + ": its name"
	if c.logicalID != "" {
		what = "stack " + stack + ": " + c.template.Describe(c.logicalID)
	}
	where := c.account
	if where == "" {
		where = "any account"
	}
	if c.scope == regional {
		r := c.region
		if r == "" {
			r = "any region"
		}
		where += "/" + r
	}
	return what + " in " + where
}

// mayShare reports whether two claims can land in the same namespace: the same account (or
// either names none) and, for a regional name, the same region (or either names none).
func mayShare(a, b claim) bool {
	same := func(x, y string) bool { return x == y || x == "" || y == "" }
	return same(a.account, b.account) && (a.scope == account || same(a.region, b.region))
}

// claims lists the literal physical names of one stack. A name built from an intrinsic
// (a Ref, a Fn::Join of the stack's name) is not literal and cannot be compared, so it is
// left out: CloudFormation or CDK makes such names unique per stack.
func claims(st cfn.Stack, t *cfn.Template) []claim {
	name := st.StackName
	if name == "" {
		name = st.ID
	}
	out := []claim{{stack: st, template: t, account: st.Account, region: st.Region, scope: regional,
		space: stackType, name: name, how: "stack name"}}
	for _, id := range t.LogicalIDs() {
		r := t.Resources[id]
		k, ok := physicalNames[r.Type]
		if !ok {
			continue
		}
		v, ok := r.Properties[k.property].(string)
		if !ok || v == "" {
			continue
		}
		space := k.space
		if space == "" {
			space = r.Type
		}
		out = append(out, claim{stack: st, template: t, logicalID: id, account: st.Account, region: st.Region,
			scope: k.scope, space: space, name: v, how: r.Type + " " + k.property})
	}
	return out
}

// CheckNames applies RulePhysicalName to the stacks given: every pair of claims of one name
// (in one namespace) that may share an account and region is a finding naming both.
func CheckNames(stacks []cfn.Stack) ([]Finding, error) {
	byName := map[string][]claim{}
	for _, st := range stacks {
		t, err := cfn.Load(st)
		if err != nil {
			return nil, fmt.Errorf("physical names: %w", err)
		}
		for _, c := range claims(st, t) {
			key := c.space + "\x00" + c.name
			byName[key] = append(byName[key], c)
		}
	}
	var out []Finding
	for _, cs := range byName {
		for i := range cs {
			for j := i + 1; j < len(cs); j++ {
				if mayShare(cs[i], cs[j]) {
					out = append(out, Finding{RulePhysicalName, fmt.Sprintf("%s %q is claimed by %s and by %s",
						cs[i].how, cs[i].name, cs[i].describe(), cs[j].describe())})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Message < out[j].Message })
	return out, nil
}

// CheckAssemblyNames applies RulePhysicalName to every stack of the cloud assembly in dir,
// and returns an error listing every collision.
func CheckAssemblyNames(dir string) error {
	stacks, err := cfn.Stacks(dir)
	if err != nil {
		return err
	}
	findings, err := CheckNames(stacks)
	if err != nil || len(findings) == 0 {
		return err
	}
	lines := make([]string, len(findings))
	for i, f := range findings {
		lines[i] = "  - " + f.String()
	}
	return errors.New("stacks that may share an account and region claim the same physical name:\n" +
		strings.Join(lines, "\n"))
}
