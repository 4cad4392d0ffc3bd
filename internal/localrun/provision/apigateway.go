package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun/apigw"
	"github.com/payhook/payhook/internal/localrun/randid"
)

// API Gateway (REST API, v1) resource types. They are collected per API while
// provisioning and assembled into Stack.APIs at the end (assembleAPIs), which the local
// API server (internal/localrun/apigw) serves.
const (
	TypeRestAPI      = "AWS::ApiGateway::RestApi"
	TypeAPIResource  = "AWS::ApiGateway::Resource"
	TypeMethod       = "AWS::ApiGateway::Method"
	TypeDeployment   = "AWS::ApiGateway::Deployment"
	TypeStage        = "AWS::ApiGateway::Stage"
	TypeAPIKey       = "AWS::ApiGateway::ApiKey"
	TypeUsagePlan    = "AWS::ApiGateway::UsagePlan"
	TypeUsagePlanKey = "AWS::ApiGateway::UsagePlanKey"
)

func init() {
	register(TypeRestAPI, (*provisioner).restAPI)
	register(TypeAPIResource, (*provisioner).apiPathResource)
	register(TypeMethod, (*provisioner).method)
	register(TypeDeployment, (*provisioner).deployment)
	register(TypeStage, (*provisioner).stage)
	register(TypeAPIKey, (*provisioner).apiKey)
	register(TypeUsagePlan, (*provisioner).usagePlan)
	register(TypeUsagePlanKey, (*provisioner).usagePlanKey)
	registerFinisher((*provisioner).assembleAPIs)
}

// apiParts collects the API Gateway resources of one RestApi until all are known.
type apiParts struct {
	logicalID, id, name, rootID string
	binary                      []string
	resources                   map[string][2]string // resource id → {parent id, path part}
	methods                     []methodPart
	stages                      []apigw.Stage
}

type methodPart struct {
	logicalID, resourceID, method, function string
	keyRequired                             bool
}

type planPart struct {
	logicalID, id, name string
	apiStages           [][2]string // {api id, stage name}
	throttle            *apigw.Throttle
	quota               *apigw.Quota
	keyIDs              []string
}

// apiAccount holds the account-level API Gateway resources (keys and usage plans).
type apiAccount struct {
	keys  map[string]apigw.APIKey // by key id
	plans []*planPart
}

func (p *provisioner) apiAccount() *apiAccount {
	if p.apiAcct == nil {
		p.apiAcct = &apiAccount{keys: map[string]apigw.APIKey{}}
	}
	return p.apiAcct
}

// apiOf returns the parts of the REST API that r's RestApiId names.
func (p *provisioner) apiOf(r *cfn.Resource) (*apiParts, error) {
	id, err := p.res.StringProperty(r, "RestApiId")
	if err != nil {
		return nil, err
	}
	lid, ok := p.apiByID[id]
	if !ok {
		return nil, propertyError(r, "RestApiId", fmt.Errorf("%s is not a local REST API", id))
	}
	return p.api[lid], nil
}

func (p *provisioner) restAPI(_ context.Context, r *cfn.Resource) error {
	name, err := p.res.StringProperty(r, "Name")
	if err != nil {
		return err
	}
	if name == "" {
		name = r.LogicalID
	}
	a := &apiParts{logicalID: r.LogicalID, id: randid.ID(10), name: name, rootID: randid.ID(10),
		resources: map[string][2]string{}}
	bin, _, err := p.res.Property(r, "BinaryMediaTypes")
	if err != nil {
		return err
	}
	for _, b := range cfn.AsList(bin) {
		// CloudFormation escapes "/" as "~1" in binary media types.
		a.binary = append(a.binary, strings.ReplaceAll(cfn.AsString(b), "~1", "/"))
	}
	p.api[r.LogicalID] = a
	p.apiByID[a.id] = r.LogicalID
	p.res.SetRef(r.LogicalID, a.id)
	p.res.SetAttr(r.LogicalID, "RootResourceId", a.rootID)
	p.res.SetAttr(r.LogicalID, "RestApiId", a.id)
	p.noteIgnored(r, map[string]string{
		"Body":           "OpenAPI definitions are not emulated: only Resource and Method resources are served",
		"BodyS3Location": "OpenAPI definitions are not emulated: only Resource and Method resources are served",
		"Policy":         "resource policies are not enforced locally",
	})
	return nil
}

func (p *provisioner) apiPathResource(_ context.Context, r *cfn.Resource) error {
	a, err := p.apiOf(r)
	if err != nil {
		return err
	}
	parent, err := p.res.StringProperty(r, "ParentId")
	if err != nil {
		return err
	}
	part, err := p.res.StringProperty(r, "PathPart")
	if err != nil {
		return err
	}
	id := randid.ID(6)
	a.resources[id] = [2]string{parent, part}
	p.res.SetRef(r.LogicalID, id)
	p.res.SetAttr(r.LogicalID, "ResourceId", id)
	return nil
}

func (p *provisioner) method(_ context.Context, r *cfn.Resource) error {
	p.res.SetRef(r.LogicalID, randid.ID(6))
	a, err := p.apiOf(r)
	if err != nil {
		return err
	}
	m := methodPart{logicalID: r.LogicalID}
	if m.resourceID, err = p.res.StringProperty(r, "ResourceId"); err != nil {
		return err
	}
	if m.method, err = p.res.StringProperty(r, "HttpMethod"); err != nil {
		return err
	}
	m.method = strings.ToUpper(m.method)
	if m.keyRequired, err = p.res.BoolProperty(r, "ApiKeyRequired", false); err != nil {
		return err
	}
	auth, err := p.res.StringProperty(r, "AuthorizationType")
	if err != nil {
		return err
	}
	if auth != "" && auth != "NONE" {
		p.unsupported(r.LogicalID, r.Type+" AuthorizationType", "authorization "+auth+" is not enforced locally")
	}
	typ, err := p.res.StringProperty(r, "Integration.Type")
	if err != nil {
		return err
	}
	if typ != "AWS_PROXY" {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("%s %s: integration type %q is not emulated (only Lambda proxy integrations are)", m.method, m.resourceID, typ))
		return nil
	}
	uri, err := p.res.StringProperty(r, "Integration.Uri")
	if err != nil {
		return err
	}
	target, ok := integrationFunction(uri)
	if !ok {
		return propertyError(r, "Integration.Uri", fmt.Errorf("%q is not a Lambda invocation URI", uri))
	}
	f, ok := p.lookupFunction(target)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("integrated function %s is not run locally", target))
		return nil
	}
	m.function = f.LogicalID
	a.methods = append(a.methods, m)
	return nil
}

// integrationFunction extracts the function ARN from a Lambda integration URI
// (arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations).
func integrationFunction(uri string) (string, bool) {
	_, rest, ok := strings.Cut(uri, ":lambda:path/2015-03-31/functions/")
	if !ok {
		return "", false
	}
	fn, ok := strings.CutSuffix(rest, "/invocations")
	return fn, ok && fn != ""
}

func (p *provisioner) deployment(_ context.Context, r *cfn.Resource) error {
	p.res.SetRef(r.LogicalID, randid.ID(6))
	stage, err := p.res.StringProperty(r, "StageName")
	if err != nil || stage == "" {
		return err
	}
	a, err := p.apiOf(r)
	if err != nil {
		return err
	}
	a.stages = append(a.stages, apigw.Stage{LogicalID: r.LogicalID, Name: stage})
	return nil
}

func (p *provisioner) stage(_ context.Context, r *cfn.Resource) error {
	a, err := p.apiOf(r)
	if err != nil {
		return err
	}
	name, err := p.res.StringProperty(r, "StageName")
	if err != nil {
		return err
	}
	if name == "" {
		return propertyError(r, "StageName", fmt.Errorf("required"))
	}
	s := apigw.Stage{LogicalID: r.LogicalID, Name: name}
	settings, _, err := p.res.Property(r, "MethodSettings")
	if err != nil {
		return err
	}
	for _, ms := range cfn.AsList(settings) {
		m := cfn.AsMap(ms)
		if cfn.AsString(m["ResourcePath"]) != "/*" || cfn.AsString(m["HttpMethod"]) != "*" {
			p.unsupported(r.LogicalID, r.Type+" MethodSettings", fmt.Sprintf("per-method settings for %s %s are not emulated (the /* * defaults are)", cfn.AsString(m["HttpMethod"]), cfn.AsString(m["ResourcePath"])))
			continue
		}
		if _, hasRate := m["ThrottlingRateLimit"]; hasRate {
			s.Throttle = throttleOf(m["ThrottlingRateLimit"], m["ThrottlingBurstLimit"])
		}
	}
	vars, _, err := p.res.Property(r, "Variables")
	if err != nil {
		return err
	}
	if vm := cfn.AsMap(vars); len(vm) > 0 {
		s.Variables = map[string]string{}
		for k, v := range vm {
			s.Variables[k] = cfn.AsString(v)
		}
	}
	a.stages = append(a.stages, s)
	p.res.SetRef(r.LogicalID, name)
	p.noteIgnored(r, map[string]string{
		"AccessLogSetting":    "no access logs locally",
		"TracingEnabled":      "no X-Ray locally",
		"CacheClusterEnabled": "no API cache locally",
		"CanarySetting":       "no canary stages locally",
	})
	return nil
}

func throttleOf(rate, burst any) *apigw.Throttle {
	t := &apigw.Throttle{}
	if f, ok := rate.(float64); ok {
		t.RateLimit = f
	} else if s := cfn.AsString(rate); s != "" {
		fmt.Sscanf(s, "%g", &t.RateLimit)
	}
	t.BurstLimit, _ = cfn.ToInt(burst)
	return t
}

func (p *provisioner) apiKey(_ context.Context, r *cfn.Resource) error {
	k := apigw.APIKey{LogicalID: r.LogicalID, ID: randid.ID(10)}
	var err error
	if k.Name, err = p.res.StringProperty(r, "Name"); err != nil {
		return err
	}
	if k.Value, err = p.res.StringProperty(r, "Value"); err != nil {
		return err
	}
	if k.Value == "" {
		k.Value = p.opts.APIKeys[r.LogicalID]
	}
	if len(k.Value) < 20 {
		// API Gateway generates 40 alphanumeric characters; 20 is its minimum.
		if k.Value, err = randid.String(40, randid.Alnum); err != nil {
			return err
		}
	}
	if k.Enabled, err = p.res.BoolProperty(r, "Enabled", false); err != nil {
		return err
	}
	p.apiAccount().keys[k.ID] = k
	p.res.SetRef(r.LogicalID, k.ID)
	p.res.SetAttr(r.LogicalID, "APIKeyId", k.ID)
	return nil
}

func (p *provisioner) usagePlan(_ context.Context, r *cfn.Resource) error {
	pl := &planPart{logicalID: r.LogicalID, id: randid.ID(6)}
	var err error
	if pl.name, err = p.res.StringProperty(r, "UsagePlanName"); err != nil {
		return err
	}
	stages, _, err := p.res.Property(r, "ApiStages")
	if err != nil {
		return err
	}
	for _, s := range cfn.AsList(stages) {
		m := cfn.AsMap(s)
		pl.apiStages = append(pl.apiStages, [2]string{cfn.AsString(m["ApiId"]), cfn.AsString(m["Stage"])})
		if th := cfn.AsMap(m["Throttle"]); len(th) > 0 {
			p.unsupported(r.LogicalID, r.Type+" ApiStages.Throttle", "per-method usage plan throttles are not emulated (the plan's throttle is)")
		}
	}
	if th, ok, err := p.res.Property(r, "Throttle"); err != nil {
		return err
	} else if ok {
		m := cfn.AsMap(th)
		if _, hasRate := m["RateLimit"]; hasRate {
			pl.throttle = throttleOf(m["RateLimit"], m["BurstLimit"])
		}
	}
	if q, ok, err := p.res.Property(r, "Quota"); err != nil {
		return err
	} else if ok {
		m := cfn.AsMap(q)
		limit, _ := cfn.ToInt(m["Limit"])
		offset, _ := cfn.ToInt(m["Offset"])
		if limit > 0 {
			pl.quota = &apigw.Quota{Limit: limit, Period: strings.ToUpper(cfn.AsString(m["Period"])), Offset: offset}
		}
	}
	p.apiAccount().plans = append(p.apiAccount().plans, pl)
	p.res.SetRef(r.LogicalID, pl.id)
	p.res.SetAttr(r.LogicalID, "Id", pl.id)
	return nil
}

func (p *provisioner) usagePlanKey(_ context.Context, r *cfn.Resource) error {
	keyID, err := p.res.StringProperty(r, "KeyId")
	if err != nil {
		return err
	}
	planID, err := p.res.StringProperty(r, "UsagePlanId")
	if err != nil {
		return err
	}
	for _, pl := range p.apiAccount().plans {
		if pl.id == planID {
			pl.keyIDs = append(pl.keyIDs, keyID)
			p.res.SetRef(r.LogicalID, keyID)
			return nil
		}
	}
	return propertyError(r, "UsagePlanId", fmt.Errorf("%s is not a local usage plan", planID))
}

// assembleAPIs turns the collected API Gateway parts into Stack.APIs.
func (p *provisioner) assembleAPIs() error {
	ids := make([]string, 0, len(p.api))
	for id := range p.api {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, lid := range ids {
		a := p.api[lid]
		out := apigw.API{LogicalID: a.logicalID, ID: a.id, Name: a.name, RootResourceID: a.rootID,
			Stages: a.stages, BinaryMediaTypes: a.binary}
		var err error
		if out.Routes, err = a.routes(); err != nil {
			return err
		}
		if out.UsagePlans, err = p.apiAccount().plansOf(a.id); err != nil {
			return err
		}
		if len(out.Stages) == 0 {
			p.unsupported(a.logicalID, TypeRestAPI, "no stage: nothing is served")
			continue
		}
		p.stack.APIs = append(p.stack.APIs, out)
	}
	return nil
}

// routes returns the API's methods as routes, sorted by path and method.
func (a *apiParts) routes() ([]apigw.Route, error) {
	var routes []apigw.Route
	for _, m := range a.methods {
		path, err := a.path(m.resourceID, 0)
		if err != nil {
			return nil, fmt.Errorf("resource %s (%s): %w", m.logicalID, TypeMethod, err)
		}
		routes = append(routes, apigw.Route{LogicalID: m.logicalID, ResourceID: m.resourceID, Path: path, Method: m.method,
			Function: m.function, APIKeyRequired: m.keyRequired})
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Path != routes[j].Path {
			return routes[i].Path < routes[j].Path
		}
		return routes[i].Method < routes[j].Method
	})
	return routes, nil
}

// plansOf returns the usage plans that cover a stage of the API apiID, with their keys.
func (acct *apiAccount) plansOf(apiID string) ([]apigw.UsagePlan, error) {
	var plans []apigw.UsagePlan
	for _, pl := range acct.plans {
		up := apigw.UsagePlan{LogicalID: pl.logicalID, ID: pl.id, Name: pl.name, Throttle: pl.throttle, Quota: pl.quota}
		for _, as := range pl.apiStages {
			if as[0] == apiID {
				up.Stages = append(up.Stages, as[1])
			}
		}
		if len(up.Stages) == 0 {
			continue
		}
		for _, kid := range pl.keyIDs {
			k, ok := acct.keys[kid]
			if !ok {
				return nil, fmt.Errorf("usage plan %s: key %s is not a local API key", pl.logicalID, kid)
			}
			up.Keys = append(up.Keys, k)
		}
		plans = append(plans, up)
	}
	return plans, nil
}

// path returns the full path of a resource id ("/" for the root).
func (a *apiParts) path(id string, depth int) (string, error) {
	if id == a.rootID {
		return "/", nil
	}
	if depth > 64 {
		return "", fmt.Errorf("resource path too deep or circular")
	}
	r, ok := a.resources[id]
	if !ok {
		return "", fmt.Errorf("resource id %s is not in REST API %s", id, a.logicalID)
	}
	parent, err := a.path(r[0], depth+1)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(parent, "/") + "/" + r[1], nil
}
