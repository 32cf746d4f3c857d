package web_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ferrysync/ferry/agent/web"
)

// TestDocsShowTheJSON: the example in docs/agent.md is what /api/jobs
// sends (no field it lacks, none unknown) and shows every field.
func TestDocsShowTheJSON(t *testing.T) {
	doc, err := os.ReadFile("../../docs/agent.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### GET /api/jobs")
	_, block, ok2 := strings.Cut(section, "```json\n")
	example, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/agent.md has no JSON example under ### GET /api/jobs")
	}
	dec := json.NewDecoder(strings.NewReader(example))
	dec.DisallowUnknownFields()
	var got web.JobsJSON
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("the documented example does not decode as /api/jobs: %v", err)
	}
	shown := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				shown[k] = true
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var raw any
	json.Unmarshal([]byte(example), &raw)
	walk(raw)
	for _, typ := range []reflect.Type{reflect.TypeFor[web.JobsJSON](), reflect.TypeFor[web.JobJSON](), reflect.TypeFor[web.RunJSON](),
		reflect.TypeFor[web.RunningJSON](), reflect.TypeFor[web.TransferJSON](), reflect.TypeFor[web.ErrorJSON]()} {
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if !shown[name] {
				t.Errorf("the example in docs/agent.md does not show %s.%s (%q)", typ.Name(), typ.Field(i).Name, name)
			}
		}
	}
	// Each field of a job is explained in the table below the example.
	table := section[strings.Index(section, "| field | meaning |"):]
	table, _, _ = strings.Cut(table, "\n\n")
	for i := range reflect.TypeFor[web.JobJSON]().NumField() {
		name, _, _ := strings.Cut(reflect.TypeFor[web.JobJSON]().Field(i).Tag.Get("json"), ",")
		if !strings.Contains(table, "`"+name+"`") {
			t.Errorf("the field table in docs/agent.md does not explain %q", name)
		}
	}
}

// TestDocsListEveryMetric: every ferry_ metric /metrics serves is in the
// table of docs/agent.md.
func TestDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../../docs/agent.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "### GET /metrics")
	ta := startTestAgent(t, &fakeRunner{}, "")
	w := ta.do(t, "GET", "localhost", "/metrics", nil)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name := range fams {
		if !strings.HasPrefix(name, "ferry_") {
			continue
		}
		n++
		if !strings.Contains(section, "| `"+name) {
			t.Errorf("docs/agent.md does not list %s", name)
		}
	}
	if n < 10 {
		t.Errorf("only %d ferry_ metrics", n)
	}
}
