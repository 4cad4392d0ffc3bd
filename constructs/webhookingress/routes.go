package webhookingress

import (
	"fmt"
	"net"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/internal/check"
)

// Route is a literal path of one sender under Path: POST /<Path>/<Name>, with
// its own method throttle and, in WAF, its own per-address rate rule and
// optionally an allow-list of source addresses.
type Route struct {
	// Name is the path segment: letters, digits, '.', '_', '-' or '~'.
	//
	// Required.
	Name *string

	// Keyless serves the route without an API key, for a sender that signs
	// every request but cannot send a key (Stripe). The handler must then
	// authenticate every request on it. The usage plans do not apply to it:
	// its own method throttle and WAF rate rule do.
	//
	// Default: false, the route needs an API key.
	Keyless *bool

	// ThrottleRateLimit and ThrottleBurstLimit are the route's own method
	// throttle: a bucket of its own, so that requests to other routes never
	// push this sender into 429s (nor its requests others').
	//
	// Default: the stage's ThrottleRateLimit and ThrottleBurstLimit.
	ThrottleRateLimit  *float64
	ThrottleBurstLimit *float64

	// WafRateLimit is the number of requests one address may send to this
	// path in 5 minutes before WAF blocks it, 10..2,000,000,000.
	//
	// Default: the ingress's WafRateLimit.
	WafRateLimit *float64

	// SourceIps are the only addresses (CIDR, IPv4 or IPv6) WAF lets post to
	// this path, e.g. a provider's published webhook addresses.
	//
	// Default: none, any address.
	SourceIps []*string
}

// routesWithDefaults returns copies of p's routes with their defaults.
func routesWithDefaults(p WebhookIngressProps) []*Route {
	out := make([]*Route, 0, len(p.Routes))
	for _, r := range p.Routes {
		r := *r
		if r.Keyless == nil {
			r.Keyless = jsii.Bool(false)
		}
		if r.ThrottleRateLimit == nil {
			r.ThrottleRateLimit = p.ThrottleRateLimit
		}
		if r.ThrottleBurstLimit == nil {
			r.ThrottleBurstLimit = p.ThrottleBurstLimit
		}
		if r.WafRateLimit == nil {
			r.WafRateLimit = p.WafRateLimit
		}
		out = append(out, &r)
	}
	return out
}

// validateRoutes reports every problem of the routes, each prefixed Routes[i].
func validateRoutes(routes []*Route) []error {
	var errs []error
	seen := map[string]int{}
	for i, r := range routes {
		add := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("Routes[%d].%s", i, fmt.Sprintf(format, a...)))
		}
		if r == nil || r.Name == nil {
			add("Name is required")
			continue
		}
		if !check.Chars(*r.Name, 1, 255, "._-~") {
			add("Name %q must be one path segment: 1..255 letters, digits, '.', '_', '-' or '~'", *r.Name)
		}
		if j, dup := seen[*r.Name]; dup {
			add("Name %q is also Routes[%d]'s", *r.Name, j)
		}
		seen[*r.Name] = i
		if v := r.ThrottleRateLimit; v != nil && *v <= 0 {
			add("ThrottleRateLimit %v must be greater than 0", *v)
		}
		if v := r.ThrottleBurstLimit; v != nil && (*v < 1 || !check.Whole(*v)) {
			add("ThrottleBurstLimit %v must be a whole number >= 1", *v)
		}
		if w := r.WafRateLimit; w != nil && (*w < MinWafRateLimit || *w > MaxWafRateLimit || !check.Whole(*w)) {
			add("WafRateLimit %v must be a whole number between %d and %d", *w, MinWafRateLimit, MaxWafRateLimit)
		}
		for j, ip := range r.SourceIps {
			if ip == nil {
				add("SourceIps[%d] is nil", j)
			} else if _, _, err := net.ParseCIDR(*ip); err != nil {
				add("SourceIps[%d] %q is not a CIDR block (203.0.113.0/24, 2001:db8::/32)", j, *ip)
			}
		}
	}
	return errs
}

// addRoutes creates each route's resource and method.
func (w *WebhookIngress) addRoutes(p WebhookIngressProps, integration awsapigateway.Integration) {
	w.RouteResources = map[string]awsapigateway.Resource{}
	w.RouteMethods = map[string]awsapigateway.Method{}
	for _, r := range p.Routes {
		res := w.Resource.AddResource(r.Name, nil)
		w.RouteResources[*r.Name] = res
		w.RouteMethods[*r.Name] = res.AddMethod(jsii.String("POST"), integration, &awsapigateway.MethodOptions{
			ApiKeyRequired:    jsii.Bool(!*r.Keyless),
			AuthorizationType: awsapigateway.AuthorizationType_NONE,
		})
	}
}

// methodThrottles are the stage's method settings: each route's own throttle.
func methodThrottles(p WebhookIngressProps) *map[string]*awsapigateway.MethodDeploymentOptions {
	if len(p.Routes) == 0 {
		return nil
	}
	m := map[string]*awsapigateway.MethodDeploymentOptions{}
	for _, r := range p.Routes {
		m["/"+*p.Path+"/"+*r.Name+"/POST"] = &awsapigateway.MethodDeploymentOptions{
			ThrottlingRateLimit: r.ThrottleRateLimit, ThrottlingBurstLimit: r.ThrottleBurstLimit,
		}
	}
	return &m
}

// RouteURL returns the endpoint of the route named name (Routes), e.g.
// https://<id>.execute-api.<region>.amazonaws.com/v1/webhooks/stripe, or nil when there is
// no such route.
func (w *WebhookIngress) RouteURL(name string) *string {
	r, ok := w.RouteResources[name]
	if !ok {
		return nil
	}
	return w.Stage.UrlForPath(r.Path())
}

// limitInvokeToAccount names the API's own account (aws:SourceAccount) on every invoke
// permission the API's methods hold, besides the API's ARN (aws:SourceArn): AWS Control
// Tower's CT.LAMBDA.PR.2 accepts a service principal only with a literal source.
func limitInvokeToAccount(c constructs.Construct, api awsapigateway.RestApi) {
	account := awscdk.Stack_Of(c).Account()
	for _, child := range *api.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if p, ok := child.(awslambda.CfnPermission); ok && *awscdk.CfnResource_IsCfnResource(child) &&
			*p.CfnResourceType() == "AWS::Lambda::Permission" {
			p.SetSourceAccount(account)
		}
	}
}
