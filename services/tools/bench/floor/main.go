// Command floor is the floor of `mage bench`: a bare aws-lambda-go function that answers at
// once, built and launched like payhook's functions, so their cold start and memory can be
// read against what any Go Lambda costs.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (map[string]bool, error) {
		return map[string]bool{"ok": true}, nil
	})
}
