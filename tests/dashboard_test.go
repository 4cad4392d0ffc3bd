package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// renderJoin flattens the dashboard body's Fn::Join, writing a Ref as REF(id) and a GetAtt
// as GETATT(id.attr), so the body parses as JSON and each reference can be checked.
func renderJoin(t *testing.T, v any) string {
	t.Helper()
	join := v.(map[string]any)["Fn::Join"].([]any)
	var b strings.Builder
	for _, part := range join[1].([]any) {
		switch p := part.(type) {
		case string:
			b.WriteString(p)
		case map[string]any:
			if r, ok := p["Ref"]; ok {
				fmt.Fprintf(&b, "REF(%v)", r)
			} else if g, ok := p["Fn::GetAtt"].([]any); ok {
				fmt.Fprintf(&b, "GETATT(%v.%v)", g[0], g[1])
			} else {
				t.Fatalf("unexpected intrinsic in dashboard body: %v", p)
			}
		}
	}
	return b.String()
}

// TestDashboardWidgetsShowThisEnvsMetrics: every env has a dashboard whose widgets all
// point at metrics this template produces: its API (by name and stage), its queues and
// functions (by reference), the services' EMF metrics of this env, and its own alarms.
func TestDashboardWidgetsShowThisEnvsMetrics(t *testing.T) {
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			rs := resources(t, e.Name)
			byID := map[string]resource{}
			for _, r := range rs {
				byID[r.ID] = r
			}
			dash := one(t, rs, "AWS::CloudWatch::Dashboard")
			assert.Equal(t, "payhook-"+e.Name, dash.Props["DashboardName"])
			var body struct {
				Widgets []struct {
					Type       string
					Properties map[string]any
				}
			}
			require.NoError(t, json.Unmarshal([]byte(renderJoin(t, dash.Props["DashboardBody"])), &body))
			require.NotEmpty(t, body.Widgets)
			api := one(t, rs, "AWS::ApiGateway::RestApi").Props["Name"]
			refOf := func(v string, typ string) {
				id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(v, "REF("), "GETATT("), ")")
				id, _, _ = strings.Cut(id, ".")
				r, ok := byID[id]
				assert.True(t, ok && r.Type == typ, "%s refers to %s, want a %s of this template", v, id, typ)
			}
			alarms, metrics, waf := 0, 0, 0
			for _, w := range body.Widgets {
				if w.Type == "alarm" {
					for _, a := range w.Properties["alarms"].([]any) {
						refOf(a.(string), "AWS::CloudWatch::Alarm")
						alarms++
					}
					continue
				}
				ms, _ := w.Properties["metrics"].([]any)
				for _, raw := range ms {
					m := raw.([]any)
					if _, isExpr := m[0].(map[string]any); isExpr {
						expr := m[0].(map[string]any)["expression"].(string)
						if strings.Contains(expr, "AWS/WAFV2") {
							acl := one(t, rs, "AWS::WAFv2::WebACL").Props["Name"]
							assert.Contains(t, expr, fmt.Sprintf(`WebACL="%s"`, acl), "WAF's widget shows this env's web ACL")
							waf++
							continue
						}
						assert.Contains(t, expr, `Env="`+e.Name+`"`, "search expressions stay in this env")
						continue
					}
					metrics++
					dims := map[string]string{}
					for i := 2; i+1 < len(m); i += 2 {
						if k, ok := m[i].(string); ok {
							dims[k], _ = m[i+1].(string)
						}
					}
					switch ns := m[0].(string); ns {
					case "AWS/ApiGateway":
						assert.Equal(t, api, dims["ApiName"])
						assert.Equal(t, e.API.StageName, dims["Stage"])
					case "AWS/SQS":
						refOf(dims["QueueName"], "AWS::SQS::Queue")
					case "AWS/Lambda":
						refOf(dims["FunctionName"], "AWS::Lambda::Function")
					case "payhook":
						assert.Equal(t, e.Name, dims["Env"])
						assert.Contains(t, []string{"ingest", "accounting", "notify-failures", "reconciler"}, dims["Service"])
					default:
						t.Errorf("metric in unexpected namespace %s", ns)
					}
				}
			}
			assert.Equal(t, len(ofType(rs, "AWS::CloudWatch::Alarm")), alarms, "every alarm of the env is on the dashboard")
			assert.GreaterOrEqual(t, metrics, 12)
			assert.Equal(t, 1, waf, "a widget of what WAF blocks and counts")
		})
	}
}
