package localstack

import (
	"fmt"
	"sort"
	"strings"
)

// apiParts collects the API Gateway resources of one RestApi until all are known.
type apiParts struct {
	logicalID, id, name, rootID string
	binary                      []string
	resources                   map[string][2]string // resource id → {parent id, path part}
	methods                     []methodPart
	stages                      []Stage
}

type methodPart struct {
	logicalID, resourceID, method, function string
	keyRequired                             bool
}

type planPart struct {
	logicalID, id, name string
	apiStages           [][2]string // {api id, stage name}
	throttle            *Throttle
	quota               *Quota
	keyIDs              []string
}

// apiState holds the account-level API Gateway resources (keys and usage plans).
type apiState struct {
	keys  map[string]APIKey // by key id
	plans []*planPart
}

func (p *provisioner) apiState() *apiState {
	if p.apiAcct == nil {
		p.apiAcct = &apiState{keys: map[string]APIKey{}}
	}
	return p.apiAcct
}

func (p *provisioner) apiOf(r *Resource) (*apiParts, error) {
	id, err := p.res.StringProperty(r, "RestApiId")
	if err != nil {
		return nil, err
	}
	lid, ok := p.apiByID[id]
	if !ok {
		return nil, &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "RestApiId", Err: fmt.Errorf("%s is not a local REST API", id)}
	}
	return p.api[lid], nil
}

func randomID(n int) string {
	s, err := randomString(n, lowerAlnum)
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return s
}

func (p *provisioner) apiResource(r *Resource) error {
	switch r.Type {
	case TypeRestAPI:
		name, err := p.res.StringProperty(r, "Name")
		if err != nil {
			return err
		}
		if name == "" {
			name = r.LogicalID
		}
		a := &apiParts{logicalID: r.LogicalID, id: randomID(10), name: name, rootID: randomID(10),
			resources: map[string][2]string{}}
		bin, _, err := p.res.Property(r, "BinaryMediaTypes")
		if err != nil {
			return err
		}
		for _, b := range asList(bin) {
			// CloudFormation escapes "/" as "~1" in binary media types.
			a.binary = append(a.binary, strings.ReplaceAll(str(b), "~1", "/"))
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
	case TypeAPIResource:
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
		id := randomID(6)
		a.resources[id] = [2]string{parent, part}
		p.res.SetRef(r.LogicalID, id)
		p.res.SetAttr(r.LogicalID, "ResourceId", id)
		return nil
	case TypeMethod:
		return p.method(r)
	case TypeDeployment:
		p.res.SetRef(r.LogicalID, randomID(6))
		stage, err := p.res.StringProperty(r, "StageName")
		if err != nil || stage == "" {
			return err
		}
		a, err := p.apiOf(r)
		if err != nil {
			return err
		}
		a.stages = append(a.stages, Stage{LogicalID: r.LogicalID, Name: stage})
		return nil
	case TypeStage:
		return p.stage(r)
	case TypeAPIKey:
		return p.apiKey(r)
	case TypeUsagePlan:
		return p.usagePlan(r)
	case TypeUsagePlanKey:
		keyID, err := p.res.StringProperty(r, "KeyId")
		if err != nil {
			return err
		}
		planID, err := p.res.StringProperty(r, "UsagePlanId")
		if err != nil {
			return err
		}
		st := p.apiState()
		for _, pl := range st.plans {
			if pl.id == planID {
				pl.keyIDs = append(pl.keyIDs, keyID)
				p.res.SetRef(r.LogicalID, keyID)
				return nil
			}
		}
		return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "UsagePlanId", Err: fmt.Errorf("%s is not a local usage plan", planID)}
	}
	return fmt.Errorf("resource %s: type %s has no local provisioner", r.LogicalID, r.Type)
}

func (p *provisioner) method(r *Resource) error {
	p.res.SetRef(r.LogicalID, randomID(6))
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
		return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "Integration.Uri",
			Err: fmt.Errorf("%q is not a Lambda invocation URI", uri)}
	}
	fi, ok := p.lookupFunction(target)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("integrated function %s is not run locally", target))
		return nil
	}
	m.function = p.stack.Functions[fi].LogicalID
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

func (p *provisioner) stage(r *Resource) error {
	a, err := p.apiOf(r)
	if err != nil {
		return err
	}
	name, err := p.res.StringProperty(r, "StageName")
	if err != nil {
		return err
	}
	if name == "" {
		return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "StageName", Err: fmt.Errorf("required")}
	}
	s := Stage{LogicalID: r.LogicalID, Name: name}
	settings, _, err := p.res.Property(r, "MethodSettings")
	if err != nil {
		return err
	}
	for _, ms := range asList(settings) {
		m := asMap(ms)
		if str(m["ResourcePath"]) != "/*" || str(m["HttpMethod"]) != "*" {
			p.unsupported(r.LogicalID, r.Type+" MethodSettings", fmt.Sprintf("per-method settings for %s %s are not emulated (the /* * defaults are)", str(m["HttpMethod"]), str(m["ResourcePath"])))
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
	if vm := asMap(vars); len(vm) > 0 {
		s.Variables = map[string]string{}
		for k, v := range vm {
			s.Variables[k] = str(v)
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

func throttleOf(rate, burst any) *Throttle {
	t := &Throttle{}
	if f, ok := rate.(float64); ok {
		t.RateLimit = f
	} else if s := str(rate); s != "" {
		fmt.Sscanf(s, "%g", &t.RateLimit)
	}
	t.BurstLimit, _ = toInt(burst)
	return t
}

func (p *provisioner) apiKey(r *Resource) error {
	k := APIKey{LogicalID: r.LogicalID, ID: randomID(10)}
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
		if k.Value, err = randomString(40, alnum); err != nil {
			return err
		}
	}
	if k.Enabled, err = p.res.BoolProperty(r, "Enabled", false); err != nil {
		return err
	}
	p.apiState().keys[k.ID] = k
	p.res.SetRef(r.LogicalID, k.ID)
	p.res.SetAttr(r.LogicalID, "APIKeyId", k.ID)
	return nil
}

func (p *provisioner) usagePlan(r *Resource) error {
	pl := &planPart{logicalID: r.LogicalID, id: randomID(6)}
	var err error
	if pl.name, err = p.res.StringProperty(r, "UsagePlanName"); err != nil {
		return err
	}
	stages, _, err := p.res.Property(r, "ApiStages")
	if err != nil {
		return err
	}
	for _, s := range asList(stages) {
		m := asMap(s)
		pl.apiStages = append(pl.apiStages, [2]string{str(m["ApiId"]), str(m["Stage"])})
		if th := asMap(m["Throttle"]); len(th) > 0 {
			p.unsupported(r.LogicalID, r.Type+" ApiStages.Throttle", "per-method usage plan throttles are not emulated (the plan's throttle is)")
		}
	}
	if th, ok, err := p.res.Property(r, "Throttle"); err != nil {
		return err
	} else if ok {
		m := asMap(th)
		if _, hasRate := m["RateLimit"]; hasRate {
			pl.throttle = throttleOf(m["RateLimit"], m["BurstLimit"])
		}
	}
	if q, ok, err := p.res.Property(r, "Quota"); err != nil {
		return err
	} else if ok {
		m := asMap(q)
		limit, _ := toInt(m["Limit"])
		offset, _ := toInt(m["Offset"])
		if limit > 0 {
			pl.quota = &Quota{Limit: limit, Period: strings.ToUpper(str(m["Period"])), Offset: offset}
		}
	}
	p.apiState().plans = append(p.apiState().plans, pl)
	p.res.SetRef(r.LogicalID, pl.id)
	p.res.SetAttr(r.LogicalID, "Id", pl.id)
	return nil
}

// assembleAPIs turns the collected API Gateway parts into Stack.APIs.
func (p *provisioner) assembleAPIs() error {
	ids := make([]string, 0, len(p.api))
	for id := range p.api {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	st := p.apiState()
	for _, lid := range ids {
		a := p.api[lid]
		out := API{LogicalID: a.logicalID, ID: a.id, Name: a.name, RootResourceID: a.rootID,
			Stages: a.stages, BinaryMediaTypes: a.binary}
		for _, m := range a.methods {
			path, err := a.path(m.resourceID, 0)
			if err != nil {
				return fmt.Errorf("resource %s (%s): %w", m.logicalID, TypeMethod, err)
			}
			out.Routes = append(out.Routes, Route{LogicalID: m.logicalID, ResourceID: m.resourceID, Path: path, Method: m.method,
				Function: m.function, APIKeyRequired: m.keyRequired})
		}
		sort.Slice(out.Routes, func(i, j int) bool {
			if out.Routes[i].Path != out.Routes[j].Path {
				return out.Routes[i].Path < out.Routes[j].Path
			}
			return out.Routes[i].Method < out.Routes[j].Method
		})
		for _, pl := range st.plans {
			up := UsagePlan{LogicalID: pl.logicalID, ID: pl.id, Name: pl.name, Throttle: pl.throttle, Quota: pl.quota}
			for _, as := range pl.apiStages {
				if as[0] == a.id {
					up.Stages = append(up.Stages, as[1])
				}
			}
			if len(up.Stages) == 0 {
				continue
			}
			for _, kid := range pl.keyIDs {
				k, ok := st.keys[kid]
				if !ok {
					return fmt.Errorf("usage plan %s: key %s is not a local API key", pl.logicalID, kid)
				}
				up.Keys = append(up.Keys, k)
			}
			out.UsagePlans = append(out.UsagePlans, up)
		}
		if len(out.Stages) == 0 {
			p.unsupported(a.logicalID, TypeRestAPI, "no stage: nothing is served")
			continue
		}
		p.stack.APIs = append(p.stack.APIs, out)
	}
	return nil
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
