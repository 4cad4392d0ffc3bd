package apigw

import (
	"net/url"
	"strings"
)

func splitStage(p string) (stage, rest string) {
	p = strings.TrimPrefix(p, "/")
	stage, rest, _ = strings.Cut(p, "/")
	return stage, "/" + rest
}

func unescapePath(p string) (string, error) {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", err
		}
		segs[i] = u
	}
	return strings.Join(segs, "/"), nil
}

func (s *Server) stage(name string) (Stage, bool) {
	for _, st := range s.API.Stages {
		if st.Name == name {
			return st, true
		}
	}
	return Stage{}, false
}

// findKey returns the usage plan and enabled key matching value on the stage.
func (s *Server) findKey(stage, value string) (*UsagePlan, *APIKey) {
	if value == "" {
		return nil, nil
	}
	for i := range s.API.UsagePlans {
		pl := &s.API.UsagePlans[i]
		covers := false
		for _, st := range pl.Stages {
			covers = covers || st == stage
		}
		if !covers {
			continue
		}
		for j := range pl.Keys {
			k := &pl.Keys[j]
			if k.Enabled && k.Value == value {
				return pl, k
			}
		}
	}
	return nil, nil
}

// matchRoute finds the route for method and path: literal segments before {param}
// segments before a greedy {proxy+}, and a method before ANY, as API Gateway prefers.
func matchRoute(routes []Route, method, path string) (Route, map[string]string, bool) {
	segs := splitPath(path)
	best, bestScore := -1, -1
	var bestParams map[string]string
	for i, r := range routes {
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		params, score, ok := matchPath(splitPath(r.Path), segs)
		if !ok {
			continue
		}
		score *= 2
		if r.Method == method {
			score++
		}
		if score > bestScore {
			best, bestScore, bestParams = i, score, params
		}
	}
	if best < 0 {
		return Route{}, nil, false
	}
	return routes[best], bestParams, true
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchPath matches request segments against a resource template; the score ranks
// literal matches above parameters above greedy parameters.
func matchPath(tmpl, segs []string) (map[string]string, int, bool) {
	params := map[string]string{}
	score := 0
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(segs) {
				return nil, 0, false
			}
			params[t[1:len(t)-2]] = strings.Join(segs[i:], "/")
			return params, score, true
		}
		if i >= len(segs) {
			return nil, 0, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			params[t[1:len(t)-1]] = segs[i]
			score += 1 << (2 * (len(tmpl) - i))
			continue
		}
		if t != segs[i] {
			return nil, 0, false
		}
		score += 2 << (2 * (len(tmpl) - i))
	}
	if len(segs) != len(tmpl) {
		return nil, 0, false
	}
	return params, score, true
}
