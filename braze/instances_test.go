package braze

import (
	"testing"
)

func TestInstances(t *testing.T) {
	for in, want := range map[string]string{
		"US-03":                                 "https://rest.iad-03.braze.com",
		"us-10":                                 "https://rest.us-10.braze.com",
		"dashboard-10.braze.com":                "https://rest.us-10.braze.com",
		"https://dashboard.us-10.braze.com/app": "https://rest.us-10.braze.com",
		"https://dashboard-02.braze.eu":         "https://rest.fra-02.braze.eu",
		"EU-01":                                 "https://rest.fra-01.braze.eu",
		"AU-01":                                 "https://rest.au-01.braze.com",
		"ID-01":                                 "https://rest.id-01.braze.com",
		"JP-01":                                 "https://rest.jp-01.braze.com",
		"dashboard.kr-01.braze.com":             "https://rest.kr-01.braze.com",
		"dashboard-08.braze.com":                "https://rest.iad-08.braze.com",
	} {
		c, err := NewClient(testKey, WithInstance(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if c.Endpoint() != want+"/users/track" {
			t.Errorf("%s: endpoint %s, want %s", in, c.Endpoint(), want)
		}
	}
	if _, err := NewClient(testKey, WithInstance("US-09")); err == nil {
		t.Error("US-09 accepted")
	}
	if len(Instances()) != 15 {
		t.Errorf("got %d instances", len(Instances()))
	}
}
