package main

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
)

// frames splits what a bar wrote into the frames it drew (each starts
// with a carriage return).
func frames(out string) []string {
	var fs []string
	for _, f := range strings.Split(out, "\r") {
		if f = strings.TrimSpace(f); f != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

var rate = regexp.MustCompile(`([0-9.]+) (B|kB|MB|GB|TB)/s`)

// A bar whose file is read at once never shows a rate measured over the
// microseconds before its first read (it showed "89 GB/s"): any rate it
// shows is measured over at least its throttle interval (100 ms), so it
// is at most the bytes read over 100 ms.
func TestBarFirstFrameShowsNoImpossibleRate(t *testing.T) {
	var out bytes.Buffer
	const size, read = 4 << 20, 2 << 20
	b := newBar(&out, "day1.csv", size)
	if _, err := io.Copy(io.Discard, b.reader(bytes.NewReader(make([]byte, read)))); err != nil {
		t.Fatal(err)
	}
	fs := frames(out.String())
	if len(fs) == 0 || !strings.Contains(fs[0], "day1.csv") {
		t.Fatalf("no first frame naming the file: %q", out.String())
	}
	unit := map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
	for _, f := range fs {
		m := rate.FindStringSubmatch(f)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		if max := float64(read) / 0.1; v*unit[m[2]] > max {
			t.Errorf("frame shows %s %s/s, more than %d bytes over 100 ms: %q", m[1], m[2], read, f)
		}
	}
}

// The last frame stays on the terminal, with the file's last figures, and
// the line ends, so that the summary printed next starts below it.
func TestBarKeepsLastFrame(t *testing.T) {
	for _, tt := range []struct {
		name     string
		size     int64
		complete bool
		want     string
	}{
		{"complete", 1000, true, "day1.csv: 8 read, 8 sent, 0 failed"},
		{"unknown size", -1, true, "day1.csv: 8 read, 8 sent, 0 failed"},
		{"ended early", 1000, false, "day1.csv: 3 read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			b := newBar(&out, "day1.csv", tt.size)
			io.Copy(io.Discard, b.reader(strings.NewReader(strings.Repeat("x", 500))))
			time.Sleep(150 * time.Millisecond) // past the throttle
			b.update(diff.Progress{Read: 3, Acked: 0})
			b.done(diff.Progress{Read: 8, Acked: 8}, tt.complete)
			s := out.String()
			if !strings.HasSuffix(s, "\n") {
				t.Fatalf("the bar's line is not ended: %q", s)
			}
			fs := frames(s)
			last := fs[len(fs)-1]
			if !strings.Contains(last, tt.want) {
				t.Errorf("last frame %q, want it to show %q", last, tt.want)
			}
			if tt.complete && tt.size > 0 && !strings.Contains(last, "100%") {
				t.Errorf("last frame of a complete file %q is not full", last)
			}
			if !tt.complete && strings.Contains(last, "100%") {
				t.Errorf("last frame of a file that ended early %q claims 100%%", last)
			}
		})
	}
}
