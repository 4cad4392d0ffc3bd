package cfnrules

import "github.com/payhook/payhook/internal/iam"

// evaluate applies AWS's policy evaluation (package iam) to docs for req, with this
// template's intrinsics rendered symbolically (render).
func (t *Template) evaluate(docs []any, req iam.Request) iam.Decision {
	return iam.Evaluator{Render: t.render}.Evaluate(docs, req)
}
