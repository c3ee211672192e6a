package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aerie-neuro/aerie/aer"
)

// EventsConfig sets up LoadEvents. Zero fields take their documented
// defaults.
type EventsConfig struct {
	// Steps is T. 0 infers it: one more than the last step of any file.
	// Events at steps ≥ Steps are dropped (the recording is cut).
	Steps int
	// TickUS is the width of a step in µs for files timed in µs (AEDAT,
	// N-MNIST, µs CSV); default 1000. Files timed in emulator ticks
	// (native files, tick CSV) map one tick to one step.
	TickUS int64
	// Units is the number of input units. 0 infers it: one more than the
	// largest unit of any file. A unit ≥ Units is an error.
	Units int
	// Map turns an address into a unit:
	//	"channel" (default): unit = Channel (neuron ids, SpiNNaker keys)
	//	"xy":  unit = y·Width + x      (camera pixels, polarity ignored)
	//	"xyp": unit = 2·(y·Width + x) + polarity
	// where x, y = aer.SplitXY(Channel) and polarity = Payload & 1.
	Map string
	// Width is the sensor width for "xy" and "xyp" (34 for N-MNIST).
	Width int
	// AlignFirst subtracts each file's first time stamp, so that every
	// sample starts at step 0; otherwise times count from 0.
	AlignFirst bool
	// Seed, if non-zero, shuffles the set with Shuffle(Seed); 0 keeps the
	// order of the labels file.
	Seed uint64
}

// Address maps of EventsConfig.Map.
const (
	MapChannel = "channel"
	MapXY      = "xy"
	MapXYP     = "xyp"
)

// Caps that keep a corrupt or hostile input from exhausting memory.
const (
	maxFileEvents = 1 << 26 // per event file
	maxLabelsLine = 4096    // bytes per line of the labels file
	maxUnits      = 1 << 24
	maxSteps      = 1 << 24
)

// LoadEvents reads a labelled set of address-event recordings: the labels
// file labelsCSV lists "file,label" lines (a header line is optional, blank
// lines and lines starting with # are skipped); each file, relative to dir
// unless absolute, is in any format package aer reads (chosen from its
// extension, else from its first bytes). Times become steps ⌊(t − t0)/TickUS⌋,
// addresses become units by cfg.Map, and collisions merge. Classes is one
// more than the largest label.
//
// Bad data is an error that names the labels file and line, or the event
// file and the problem: a missing or unreadable file, a malformed line, a
// negative label, a unit outside cfg.Units, an event before t0, an empty set.
func LoadEvents(dir, labelsCSV string, cfg EventsConfig) (*Set, error) {
	if cfg.TickUS == 0 {
		cfg.TickUS = 1000
	}
	if cfg.Map == "" {
		cfg.Map = MapChannel
	}
	switch {
	case cfg.Steps < 0 || cfg.Steps > maxSteps:
		return nil, fmt.Errorf("dataset: events: steps %d, want 0…%d", cfg.Steps, maxSteps)
	case cfg.Units < 0 || cfg.Units > maxUnits:
		return nil, fmt.Errorf("dataset: events: units %d, want 0…%d", cfg.Units, maxUnits)
	case cfg.TickUS < 0:
		return nil, fmt.Errorf("dataset: events: tick %d µs, want > 0", cfg.TickUS)
	case cfg.Map != MapChannel && cfg.Map != MapXY && cfg.Map != MapXYP:
		return nil, fmt.Errorf("dataset: events: map %q, want %q, %q or %q", cfg.Map, MapChannel, MapXY, MapXYP)
	case cfg.Map != MapChannel && (cfg.Width <= 0 || cfg.Width > 1<<16):
		return nil, fmt.Errorf("dataset: events: map %q needs the sensor width (1…65536; 34 for N-MNIST), got %d", cfg.Map, cfg.Width)
	}
	entries, err := readLabels(labelsCSV)
	if err != nil {
		return nil, err
	}
	set := &Set{Name: filepath.Base(labelsCSV), Samples: make([]Sample, len(entries))}
	errs := make([]error, len(entries))
	parallel(len(entries), func(i int) {
		e := entries[i]
		path := e.file
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		ev, err := readEventFile(path, &cfg)
		if pe := (*os.PathError)(nil); errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", pe.Op, pe.Err) // the path is named below
		}
		if err != nil {
			errs[i] = fmt.Errorf("dataset: %s:%d: %s: %w", labelsCSV, e.line, path, err)
			return
		}
		set.Samples[i] = Sample{Label: e.label, Events: ev}
	})
	if err := firstErrors(errs, 5); err != nil {
		return nil, err
	}

	// Shape: given or inferred.
	maxUnit, maxStep := int32(-1), int32(-1)
	for i, s := range set.Samples {
		set.Classes = max(set.Classes, s.Label+1)
		for _, e := range s.Events {
			maxStep = max(maxStep, e.Step)
			if cfg.Units > 0 && int(e.Unit) >= cfg.Units {
				return nil, fmt.Errorf("dataset: %s:%d: %s: unit %d at step %d, but units is %d",
					labelsCSV, entries[i].line, entries[i].file, e.Unit, e.Step, cfg.Units)
			}
			maxUnit = max(maxUnit, e.Unit)
		}
	}
	set.Units, set.Steps = cfg.Units, cfg.Steps
	if set.Units == 0 {
		set.Units = int(maxUnit) + 1
	}
	if set.Steps == 0 {
		set.Steps = int(maxStep) + 1
	}
	if set.Units == 0 || set.Steps == 0 {
		return nil, fmt.Errorf("dataset: events: %s: the %d files hold no events", labelsCSV, len(entries))
	}
	if cfg.Seed != 0 {
		set.Shuffle(cfg.Seed)
	}
	if err := set.Validate(); err != nil {
		return nil, err // a bug: readEventFile sorts and bounds every sample
	}
	return set, nil
}

// firstErrors joins the first n non-nil errors and says how many more there
// were; it returns nil if all are nil.
func firstErrors(errs []error, n int) error {
	var keep []error
	more := 0
	for _, err := range errs {
		switch {
		case err == nil:
		case len(keep) < n:
			keep = append(keep, err)
		default:
			more++
		}
	}
	if more > 0 {
		keep = append(keep, fmt.Errorf("dataset: and %d more files with errors", more))
	}
	return errors.Join(keep...)
}

type labelEntry struct {
	file  string
	label int
	line  int
}

// readLabels parses the labels file.
func readLabels(path string) ([]labelEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: labels: %v", err)
	}
	defer f.Close()
	var out []labelEntry
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, maxLabelsLine), maxLabelsLine)
	rows, line := 0, 0 // rows: lines that are not blank or comments
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		rows++
		file, label, ok := strings.Cut(text, ",")
		file, label = strings.TrimSpace(file), strings.TrimSpace(label)
		if !ok || file == "" || strings.Contains(label, ",") {
			return nil, fmt.Errorf("dataset: %s:%d: %q: want file,label", path, line, text)
		}
		l, err := strconv.Atoi(label)
		if err != nil {
			if rows == 1 {
				continue // a header line such as "file,label"
			}
			return nil, fmt.Errorf("dataset: %s:%d: label %q is not an integer", path, line, label)
		}
		if l < 0 || l >= maxUnits {
			return nil, fmt.Errorf("dataset: %s:%d: label %d, want 0…%d", path, line, l, maxUnits-1)
		}
		if prev, dup := seen[file]; dup {
			return nil, fmt.Errorf("dataset: %s:%d: %s is listed again (first on line %d)", path, line, file, prev)
		}
		seen[file] = line
		out = append(out, labelEntry{file: file, label: l, line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dataset: %s:%d: %v", path, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dataset: %s lists no files: want lines of file,label", path)
	}
	return out, nil
}

// readEventFile reads one recording and turns it into sorted, merged events.
func readEventFile(path string, cfg *EventsConfig) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := aer.OpenReader(f, aer.FormatFromName(path), aer.ReadOptions{})
	if err != nil {
		return nil, err
	}
	div := cfg.TickUS
	if r.Unit() == aer.Tick {
		div = 1
	}
	var out []Event
	buf := make([]aer.Event, 4096)
	t0, first, total := int64(0), true, 0
	for {
		n, rerr := r.Read(buf)
		total += n
		if total > maxFileEvents {
			return nil, fmt.Errorf("more than %d events", maxFileEvents)
		}
		for i, e := range buf[:n] {
			if first && cfg.AlignFirst {
				t0 = e.Time
			}
			first = false
			if e.Time < t0 {
				return nil, fmt.Errorf("event %d: time %d %v before the start %d", total-n+i, e.Time, r.Unit(), t0)
			}
			step := (e.Time - t0) / div
			if cfg.Steps > 0 && step >= int64(cfg.Steps) {
				continue // after the window
			}
			if step >= maxSteps {
				return nil, fmt.Errorf("event %d: time %d %v is step %d, more than the cap %d (set Steps to cut the recording, a larger TickUS, or AlignFirst)",
					total-n+i, e.Time, r.Unit(), step, maxSteps)
			}
			unit := int64(e.Channel)
			if cfg.Map != MapChannel {
				x, y := aer.SplitXY(e.Channel)
				if int(x) >= cfg.Width {
					return nil, fmt.Errorf("event %d: x = %d, but the width is %d", total-n+i, x, cfg.Width)
				}
				unit = int64(y)*int64(cfg.Width) + int64(x)
				if cfg.Map == MapXYP {
					unit = 2*unit + int64(e.Payload&1)
				}
			}
			if unit >= maxUnits {
				return nil, fmt.Errorf("event %d: unit %d, more than the cap %d", total-n+i, unit, maxUnits)
			}
			out = append(out, Event{Step: int32(step), Unit: int32(unit)})
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	out = sortEvents(out)
	return out[:len(out):len(out)], nil
}
