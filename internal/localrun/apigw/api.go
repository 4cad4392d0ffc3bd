// Package apigw serves a REST API (API Gateway v1) with Lambda proxy integrations on
// 127.0.0.1 as API Gateway serves it: the template's resources and methods only, API keys
// and usage plans, stage and per-key throttles and quotas, the 10 MB payload limit, the
// proxy event as API Gateway builds it (header names lower-cased, as for HTTP/2 clients)
// and the proxy response as API Gateway reads it, with API Gateway's own error responses.
// The API it serves (API, Stage, Route, UsagePlan...) is what provisioning read from the
// template.
package apigw

// API is a REST API (API Gateway v1) with its routes, stages, keys and usage plans.
type API struct {
	LogicalID, ID, Name string
	// RootResourceID is the id of the "/" resource.
	RootResourceID string
	// Stages are the API's deployment stages.
	Stages []Stage
	// Routes are the methods with a Lambda proxy integration.
	Routes []Route
	// UsagePlans are the usage plans covering a stage of this API.
	UsagePlans []UsagePlan
	// BinaryMediaTypes is the API's binaryMediaTypes.
	BinaryMediaTypes []string
}

// Stage is a deployment stage.
type Stage struct {
	LogicalID, Name string
	// Throttle is the stage's default method throttle (MethodSettings for /* *), nil
	// when unset.
	Throttle *Throttle
	// Variables are the stage variables (the proxy event's stageVariables).
	Variables map[string]string
}

// Route is one method of the API with a Lambda proxy integration.
type Route struct {
	// LogicalID is the AWS::ApiGateway::Method's logical id.
	LogicalID string
	// ResourceID is the id of the method's resource.
	ResourceID string
	// Path is the resource path, e.g. /webhooks or /items/{id}.
	Path string
	// Method is the HTTP method (ANY matches every method).
	Method string
	// Function is the logical id of the integrated function.
	Function string
	// APIKeyRequired is the method's ApiKeyRequired.
	APIKeyRequired bool
}

// UsagePlan is an API Gateway usage plan.
type UsagePlan struct {
	LogicalID, ID, Name string
	// Stages are the names of this API's stages the plan covers.
	Stages []string
	// Keys are the plan's API keys.
	Keys []APIKey
	// Throttle is the per-key throttle (nil when unset).
	Throttle *Throttle
	// Quota is the per-key quota (nil when unset).
	Quota *Quota
}

// APIKey is an API Gateway API key with its (locally generated) value.
type APIKey struct {
	LogicalID, ID, Name, Value string
	// Enabled is the key's Enabled property (CloudFormation's default is false).
	Enabled bool
}

// Throttle is a token bucket: RateLimit requests per second, BurstLimit capacity.
type Throttle struct {
	RateLimit  float64
	BurstLimit int
}

// Quota caps the requests per key in a period (DAY, WEEK or MONTH).
type Quota struct {
	Limit  int
	Period string
	Offset int
}
