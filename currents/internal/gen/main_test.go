package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestGeneratedCodeUpToDate regenerates events_gen.go from the schemas
// and compares it with the committed file. It needs Braze's schemas,
// which live outside the repository, and skips without them.
func TestGeneratedCodeUpToDate(t *testing.T) {
	schemas := filepath.Join("..", "..", "..", "..", "shared", "currents", "schemas")
	if dir := os.Getenv("CURRENTS_SHARED"); dir != "" {
		schemas = filepath.Join(dir, "schemas")
	}
	paths, _ := filepath.Glob(filepath.Join(schemas, "*.avsc"))
	if len(paths) == 0 {
		t.Skipf("skipping: no Currents schemas at %s (Braze's, which may not be copied into the repository; set CURRENTS_SHARED)", schemas)
	}
	sort.Strings(paths)
	var types []goType
	for _, p := range paths {
		ty, err := load(p)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, ty)
	}
	src, err := render(types)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "events_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, committed) {
		t.Error("events_gen.go is stale: run go generate ./currents")
	}
	// The generated code must not carry Braze's schema JSON.
	if bytes.Contains(committed, []byte(`"fields"`)) || bytes.Contains(committed, []byte(`"namespace"`)) {
		t.Error("events_gen.go contains schema JSON")
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"users.messages.email.Send":                     "EmailSend",
		"users.behaviors.app.SessionStart":              "SessionStart",
		"users.campaigns.Conversion":                    "CampaignConversion",
		"users.messages.pushnotification.IosForeground": "PushNotificationIosForeground",
		"agentconsole.ToolInvocation":                   "ToolInvocation",
		"users.behaviors.subscriptiongroup.StateChange": "SubscriptionGroupStateChange",
		"users.canvas.experimentstep.SplitEntry":        "CanvasExperimentStepSplitEntry",
	} {
		if got := typeName(in); got != want {
			t.Errorf("typeName(%s) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"id": "ID", "user_id": "BrazeUserID", "time": "UnixTime", "app_group_api_id": "AppGroupAPIID",
		"time_ms": "TimeMs", "ip_pool": "IPPool", "sdk_version": "SDKVersion", "_x": "X",
	} {
		if got := fieldName(in); got != want {
			t.Errorf("fieldName(%s) = %s, want %s", in, got, want)
		}
	}
}
