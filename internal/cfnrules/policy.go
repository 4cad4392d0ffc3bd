package cfnrules

import "github.com/payhook/payhook/internal/iam"

// Evaluate applies AWS's policy evaluation (package iam) to docs for req, with this
// template's intrinsics rendered symbolically: a Ref to a resource reads "{Ref:<id>}", a
// Fn::GetAtt "{GetAtt:<id>.<attribute>}", pseudo parameters their values.
func (t *Template) Evaluate(docs []any, req iam.Request) iam.Decision {
	return iam.Evaluator{Render: t.render}.Evaluate(docs, req)
}
