package azuritetest

import (
	"context"
	"testing"
)

func TestStart(t *testing.T) {
	s := Start(t)
	c := s.Container(t, "probe")
	props, err := c.GetProperties(context.Background(), nil)
	if err != nil {
		t.Fatalf("the new container does not answer: %v", err)
	}
	if props.LastModified == nil {
		t.Errorf("container properties without Last-Modified: %+v", props)
	}
}

func TestTail(t *testing.T) {
	var w tail
	big := make([]byte, 5000)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	w.Write(big)
	w.Write([]byte("end"))
	if s := w.String(); len(s) != 4096 || s[len(s)-3:] != "end" {
		t.Errorf("tail kept %d bytes ending %q", len(s), s[len(s)-3:])
	}
}
