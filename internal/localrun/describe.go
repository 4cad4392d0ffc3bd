package localrun

import (
	"regexp"
	"strings"
)

// State returns the facts tools need about the running stack: where everything is (from
// the stack and the servers) and the application's facts (App.Describe).
func (l *Local) State() *State {
	st := l.Stack
	s := &State{
		Running:       true,
		StartedAt:     l.StartedAt.UTC(),
		StartupMillis: l.Startup.Milliseconds(),
		Template:      l.Config.Template,
		Stack:         st.Name,
		Region:        st.Region,
		Emulators: StateEmulators{DynamoDB: l.Endpoints.DynamoDB, SQS: l.Endpoints.Queues, SNS: l.Endpoints.Queues,
			SecretsManager: l.Endpoints.SecretsManager},
		LogDir:      l.Config.LogDir(),
		Pids:        l.Pids(),
		Unsupported: st.Unsupported,
	}
	s.Providers = append(s.Providers, l.facts.Providers...)
	s.Live = l.facts.Live
	l.describeAPIs(s)
	s.Outputs = map[string]string{}
	for k, v := range st.Outputs {
		s.Outputs[k] = l.localURL(v)
	}
	for _, f := range st.Functions {
		sf := StateFunction{LogicalID: f.LogicalID, Name: f.Name, Service: f.Service}
		if fn := l.Functions[f.LogicalID]; fn != nil {
			sf.Log = fn.LogPath()
		}
		s.Functions = append(s.Functions, sf)
	}
	l.describeMainResources(s)
	return s
}

// describeAPIs lists the served APIs, and sets the endpoint (the first API's first POST
// route, else its first route, on its first stage) and the first enabled key of its
// usage plans.
func (l *Local) describeAPIs(s *State) {
	for i, srv := range l.APIs {
		api := srv.API
		sa := StateAPI{LogicalID: api.LogicalID, URL: srv.URL(), Stages: map[string]string{}, Keys: map[string]string{}}
		for _, stg := range api.Stages {
			sa.Stages[stg.Name] = srv.StageURL(stg.Name)
		}
		for _, r := range api.Routes {
			sa.Routes = append(sa.Routes, r.Method+" "+r.Path)
		}
		for _, pl := range api.UsagePlans {
			for _, k := range pl.Keys {
				sa.Keys[k.LogicalID] = k.Value
			}
		}
		s.APIs = append(s.APIs, sa)
		if i != 0 || len(api.Stages) == 0 {
			continue
		}
		if len(api.Routes) > 0 {
			route := api.Routes[0]
			for _, r := range api.Routes {
				if r.Method == "POST" {
					route = r
					break
				}
			}
			s.Endpoint = srv.StageURL(api.Stages[0].Name) + strings.TrimSuffix(route.Path, "/")
		}
		for _, pl := range api.UsagePlans {
			for _, k := range pl.Keys {
				if k.Enabled && s.APIKey == "" {
					s.APIKey = k.Value
				}
			}
		}
	}
}

// describeMainResources sets the main table, queue and topic: the application's (its
// facts), else the stack's only table or topic and its first queue with a dead-letter
// queue; and that queue's dead-letter queue.
func (l *Local) describeMainResources(s *State) {
	st := l.Stack
	s.Table, s.QueueURL, s.TopicARN = l.facts.Table, l.facts.QueueURL, l.facts.TopicARN
	if s.Table == "" && len(st.Tables) == 1 {
		s.Table = st.Tables[0].Name
	}
	if s.TopicARN == "" && len(st.Topics) == 1 {
		s.TopicARN = st.Topics[0].ARN
	}
	if s.QueueURL == "" {
		for _, q := range st.Queues {
			if q.DeadLetterQueue != "" {
				s.QueueURL = q.URL
				break
			}
		}
	}
	if q, ok := st.Queue(s.QueueURL); ok && q.DeadLetterQueue != "" {
		if dlq, ok := st.Queue(q.DeadLetterQueue); ok {
			s.DLQURL = dlq.URL
		}
	}
}

// executeAPI matches an API Gateway invoke URL: https://<api id>.execute-api.<region>.<suffix>/<rest>.
var executeAPI = regexp.MustCompile(`^https://([a-z0-9]+)\.execute-api\.[^/]+/(.*)$`)

// localURL rewrites the invoke URL of a served API to the local server.
func (l *Local) localURL(v string) string {
	m := executeAPI.FindStringSubmatch(v)
	if m == nil {
		return v
	}
	for _, srv := range l.APIs {
		if srv.API.ID == m[1] {
			return srv.URL() + "/" + m[2]
		}
	}
	return v
}
