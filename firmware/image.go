package firmware

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/internal/fileio"
)

// Image is a configuration image: a compiled program with the placement
// that produced it, the chip it was compiled for and free-form provenance.
// MarshalBinary writes it in the format below; DecodeImage and ReadImage
// read it back; CheckChip says whether it may run on a chip description.
//
// The format is little-endian throughout. A header carries the magic, the
// format version and the fingerprint of the chip description (see
// chip.Config.Fingerprint), then a section table; the sections follow the
// header back to back, in the order of the table, and each has its own
// CRC-32C (Castagnoli). The first 12 bytes (magic, version, minimum reader
// version) are frozen for every version to come, so that any reader can
// say why it cannot read an image.
//
//	header (offsets in bytes; n is the name length, k the section count)
//	+----------+---------+------------+-------+-------------+------------+--------+------+-----+
//	| AERIEIMG | version | min reader | flags | fingerprint | fp version | name n | name |  k  |
//	| 8 bytes  |   u16   |    u16     | u32=0 |     u64     |    u16     |  u16   |  n   | u16 |
//	+----------+---------+------------+-------+-------------+------------+--------+------+-----+
//	0          8         10           12      16            24           26       28     28+n
//
//	section table at 30+n: k entries of 24 bytes, sorted by kind, each kind once
//	+----------+--------------+------------+------------+------------+
//	| kind u16 | reserved u16 | offset u64 | length u64 | crc32c u32 |  × k
//	|          |     = 0      | from byte 0| of the body| of the body|
//	+----------+--------------+------------+------------+------------+
//	+--------------------------------------------------+
//	| header crc32c u32 over bytes 0 … 30+n+24k−1      |  at 30+n+24k
//	+--------------------------------------------------+
//
//	sections, back to back from 34+n+24k to the end of the image (no gaps,
//	no overlaps, no trailing bytes), in the order of the table:
//	+-------+--------+-------+---------+-----------+------------+
//	| cores | escape | ports | routers | placement | provenance |
//	+-------+--------+-------+---------+-----------+------------+
//
// The sections of format version 1, by kind (a string is a u16 length and
// its bytes; a ref is (core u32, axon u32) or, in output ports,
// (core u32, neuron u32); counts are u32 unless said otherwise):
//
//	1 cores       seed u64 (Program.Seed), core count,
//	              directory: per core {profiles, neurons, axons, generators,
//	                synapses, output refs} u32 each (24 bytes),
//	              then per core, in order:
//	                profiles    {du[4] u16, dv u16, vth i32, refractory u16,
//	                             escape i32 (index into the escape section,
//	                             −1: deterministic), flags u8 (bit 0:
//	                             readout; others 0)}            21 bytes each
//	                neurons     {profile u16, bias mant i32, bias exp u8,
//	                             v0 i32, noise key u32, out count} 19 bytes,
//	                             then out count refs
//	                axons       {weight exp i8, synapse count}   5 bytes, then
//	                             synapses {neuron u32, type u8, delay u8,
//	                             weight i32}                    10 bytes each
//	                generators  {seed u64, prob u32, period u32, phase u32,
//	                             noise key u32, counts n u8,
//	                             n × u32, out count, refs}   ≥ 29 bytes
//	2 escape      table count, per table {shift u8, offset i32, entry count,
//	              entries u32 each}: the distinct escape tables (by
//	              content) in order of first use by the profiles
//	3 ports       input count, per input {name string, channel count, per
//	              channel {ref count, refs}}; output count, per output
//	              {name string, neuron count, neuron refs}
//	4 routers     count of routing tables, 0: version 1 knows only the
//	              ideal interconnect (the seam for networks-on-chip)
//	5 placement   synapses u64, dropped synapses u64, population count, per
//	              population {name string, size, flags u8 (bit 0: source),
//	              piece count, pieces {core, first, count, start} 16 bytes}
//	              (core usage is recomputed from the program)
//	6 provenance  pair count (≤ 4096), pairs {key, value} as strings of
//	              ≤ 65535 bytes, sorted by key, keys distinct
//
// The encoding is canonical: the same Image always gives the same bytes,
// and the decoder accepts only what the encoder writes (sections in kind
// order without gaps, reserved fields zero, escape tables deduplicated in
// first-use order, provenance sorted), so decoding and encoding again
// reproduces the input byte for byte.
//
// Decoding is defensive: it never panics; every count is checked against
// the bytes that remain before anything is allocated, so memory stays
// within a small multiple of the image size; every reference is checked
// (profiles, escape tables, axon and neuron refs, placement pieces inside
// the program's cores and slots, covering each population exactly once), so
// that CheckChip and chip.Load see a consistent program. Errors are
// *ImageError values (errors.Is(err, ErrCorruptImage)) naming the section
// and the byte offset, or *VersionError for images of another version.
// Images are at most MaxImageBytes long and names at most 255 bytes.
//
// Versions are linear: an image records its version and the oldest reader
// version that can read it. A reader of version R reads images whose
// minimum reader version is ≤ R and whose version is ≥ its own
// minReadVersion; in an image of a version above R it skips (after checking
// their CRCs) the section kinds it does not know, and in an image of
// version ≤ R an unknown section kind is an error. A version that changes
// the meaning of existing sections raises the minimum reader version.
type Image struct {
	// Version is the format version the image was decoded from; encoding
	// always writes the current one.
	Version uint16
	// Chip names the chip description the image was compiled for.
	Chip string
	// Fingerprint is chip.Config.Fingerprint of that description, computed
	// under FingerprintVersion (chip.FingerprintVersion when compiled).
	Fingerprint        uint64
	FingerprintVersion uint16
	Program            *chip.Program
	// Placement holds the populations (names, sizes, pieces), the synapse
	// counts and the core usage, which decoding recomputes from Program.
	Placement *Placement
	// Provenance is free-form metadata: what trained the network, its
	// quantization, its measured accuracy.
	Provenance map[string]string
}

// Format versions. Each entry says what its version adds; the list only
// grows.
const (
	// formatV1: header, section table, sections cores, escape, ports,
	// routers (empty), placement, provenance.
	formatV1 uint16 = 1

	currentVersion = formatV1 // what the encoder writes
	minReadVersion = formatV1 // the oldest version this reader reads
)

// MaxImageBytes is the largest image that is written or read (2 GiB).
const MaxImageBytes = 2 << 30

// ImageMagic is the first 8 bytes of every configuration image.
const ImageMagic = "AERIEIMG"

const (
	maxNameBytes     = 255
	maxProvPairs     = 4096
	maxProvString    = 1<<16 - 1
	maxSections      = 64
	headerFixedSize  = 28 // magic … name length
	tableEntrySize   = 24
	coreDirEntrySize = 24
	profileSize      = 21
	neuronSize       = 19
	refSize          = 8
	axonSize         = 5
	synapseSize      = 10
	generatorSize    = 29 // with no counts and no refs
	escapeSize       = 9  // with no entries

	profileReadout = 1 // profile flags bit 0: chip.Profile.Readout
)

// Section kinds of format version 1, in the order they are written.
const (
	kindCores uint16 = 1 + iota
	kindEscape
	kindPorts
	kindRouters
	kindPlacement
	kindProvenance
	numKinds = int(kindProvenance)
)

var kindNames = [...]string{kindCores: "cores", kindEscape: "escape", kindPorts: "ports", kindRouters: "routers",
	kindPlacement: "placement", kindProvenance: "provenance"}

func kindName(k uint16) string {
	if k >= 1 && int(k) <= numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind %d", k)
}

// ErrCorruptImage is matched (errors.Is) by every error about malformed
// image bytes.
var ErrCorruptImage = errors.New("firmware: corrupt configuration image")

// ImageError is malformed image bytes: the section ("header" for the header
// and the section table), the byte offset from the start of the image, and
// what is wrong.
type ImageError struct {
	Path    string // file name, when read by ReadImage
	Section string
	Offset  int64
	Msg     string
}

func (e *ImageError) Error() string {
	where := e.Section
	if where != "header" {
		where += " section"
	}
	return fmt.Sprintf("%s: %s: %s at offset %d", imagePrefix(e.Path), where, e.Msg, e.Offset)
}

// Is reports ErrCorruptImage.
func (e *ImageError) Is(target error) bool { return target == ErrCorruptImage }

func imagePrefix(path string) string {
	if path == "" {
		return "firmware: image"
	}
	return "firmware: image " + path
}

// ErrImageVersion is matched by errors about images of a format version
// this reader cannot read.
var ErrImageVersion = errors.New("firmware: unsupported configuration image version")

// VersionError is an image whose format version this reader cannot read.
type VersionError struct {
	Path      string
	Version   uint16 // the image's version
	MinReader uint16 // the oldest reader version that can read it
}

func (e *VersionError) Error() string {
	if e.MinReader > currentVersion {
		return fmt.Sprintf("%s: image version %d needs aerie that reads version ≥ %d; this one reads %d…%d",
			imagePrefix(e.Path), e.Version, e.MinReader, minReadVersion, currentVersion)
	}
	return fmt.Sprintf("%s: image version %d is older than this aerie reads (versions %d…%d): recompile the network",
		imagePrefix(e.Path), e.Version, minReadVersion, currentVersion)
}

// Is reports ErrImageVersion.
func (e *VersionError) Is(target error) bool { return target == ErrImageVersion }

// ErrChipMismatch is matched by CheckChip's error for an image compiled for
// another chip description.
var ErrChipMismatch = errors.New("firmware: image compiled for another chip")

// ChipMismatchError is an image whose chip fingerprint differs from the
// description it is checked against.
type ChipMismatchError struct {
	ImageChip               string
	ImageFingerprint        uint64
	ImageFingerprintVersion uint16
	Chip                    string
	Fingerprint             uint64
}

func (e *ChipMismatchError) Error() string {
	if e.ImageFingerprintVersion != chip.FingerprintVersion {
		return fmt.Sprintf("firmware: image for chip %q carries a version %d chip fingerprint; this aerie computes version %d: recompile the network for %s",
			e.ImageChip, e.ImageFingerprintVersion, chip.FingerprintVersion, e.Chip)
	}
	why := "recompile the network for " + e.Chip + " or run the image on " + e.ImageChip
	if e.ImageChip == e.Chip {
		why = "the description changed in a field that changes what runs since the image was compiled: recompile the network"
	}
	return fmt.Sprintf("firmware: image was compiled for chip %q (fingerprint %016x), not for chip %q (fingerprint %016x): %s",
		e.ImageChip, e.ImageFingerprint, e.Chip, e.Fingerprint, why)
}

// Is reports ErrChipMismatch.
func (e *ChipMismatchError) Is(target error) bool { return target == ErrChipMismatch }

// NewImage compiles net for the chip described by cfg with default options;
// see NewImageWith.
func NewImage(net *Network, cfg *chip.Config) (*Image, error) {
	return NewImageWith(net, cfg, Options{})
}

// NewImageWith compiles net for the chip described by cfg (CompileWith)
// and wraps the result with the chip's name and fingerprint and a copy of
// the network's provenance, to which it adds "dt_ms" when net.DtMS is set.
func NewImageWith(net *Network, cfg *chip.Config, opt Options) (*Image, error) {
	prog, pl, err := CompileWith(net, cfg, opt)
	if err != nil {
		return nil, err
	}
	canonicalProgram(prog)
	img := &Image{
		Version:            currentVersion,
		Chip:               cfg.Name,
		Fingerprint:        cfg.Fingerprint(),
		FingerprintVersion: chip.FingerprintVersion,
		Program:            prog,
		Placement:          pl,
	}
	if len(net.Provenance) > 0 {
		img.Provenance = maps.Clone(net.Provenance)
	}
	if net.DtMS > 0 {
		if img.Provenance == nil {
			img.Provenance = map[string]string{}
		}
		img.Provenance["dt_ms"] = strconv.FormatFloat(net.DtMS, 'g', -1, 64)
	}
	if _, err := img.layout(true); err != nil {
		return nil, err
	}
	return img, nil
}

// DtMS is the biological time of one tick in milliseconds that the network
// was built for: the provenance entry "dt_ms", or 0 when it is missing or
// not a positive number.
func (img *Image) DtMS() float64 {
	dt, err := strconv.ParseFloat(img.Provenance["dt_ms"], 64)
	if err != nil || !(dt > 0) || math.IsInf(dt, 0) {
		return 0
	}
	return dt
}

// canonicalProgram replaces empty lists by nil, as decoding gives them, so
// that a compiled program and its decoded image compare equal.
func canonicalProgram(p *chip.Program) {
	if len(p.Cores) == 0 {
		p.Cores = nil
	}
	if len(p.Inputs) == 0 {
		p.Inputs = nil
	}
	if len(p.Outputs) == 0 {
		p.Outputs = nil
	}
	for i := range p.Cores {
		cp := &p.Cores[i]
		if len(cp.Profiles) == 0 {
			cp.Profiles = nil
		}
		if len(cp.Neurons) == 0 {
			cp.Neurons = nil
		}
		if len(cp.Axons) == 0 {
			cp.Axons = nil
		}
		if len(cp.Generators) == 0 {
			cp.Generators = nil
		}
		for j := range cp.Neurons {
			if len(cp.Neurons[j].Out) == 0 {
				cp.Neurons[j].Out = nil
			}
		}
		for j := range cp.Axons {
			if len(cp.Axons[j].Synapses) == 0 {
				cp.Axons[j].Synapses = nil
			}
		}
		for j := range cp.Generators {
			g := &cp.Generators[j]
			if len(g.Out) == 0 {
				g.Out = nil
			}
			if len(g.Counts) == 0 {
				g.Counts = nil
			}
		}
	}
	for i := range p.Inputs {
		in := &p.Inputs[i]
		if len(in.Channels) == 0 {
			in.Channels = nil
		}
		for ch := range in.Channels {
			if len(in.Channels[ch]) == 0 {
				in.Channels[ch] = nil
			}
		}
	}
	for i := range p.Outputs {
		if len(p.Outputs[i].Neurons) == 0 {
			p.Outputs[i].Neurons = nil
		}
	}
}

// CheckChip reports whether the image may run on the chip described by
// cfg: the fingerprints must match (a *ChipMismatchError naming both chips
// and both fingerprints otherwise) and the program must fit the chip
// (chip.Program.Check).
func (img *Image) CheckChip(cfg *chip.Config) error {
	if fp := cfg.Fingerprint(); img.FingerprintVersion != chip.FingerprintVersion || fp != img.Fingerprint {
		return &ChipMismatchError{ImageChip: img.Chip, ImageFingerprint: img.Fingerprint,
			ImageFingerprintVersion: img.FingerprintVersion, Chip: cfg.Name, Fingerprint: fp}
	}
	if img.Program == nil {
		return errors.New("firmware: image has no program")
	}
	if err := img.Program.Check(cfg); err != nil {
		return fmt.Errorf("firmware: image program does not fit %s: %w", cfg.Name, err)
	}
	return nil
}

// ReadImage reads and decodes the image file at path (at most
// MaxImageBytes). Decoding errors carry the path.
func ReadImage(path string) (*Image, error) {
	b, err := fileio.ReadFile(path, fileio.Limit{Bytes: MaxImageBytes, What: "configuration images"})
	if err != nil {
		return nil, fmt.Errorf("firmware: reading image: %w", err)
	}
	img, err := DecodeImage(b)
	if err != nil {
		var ie *ImageError
		var ve *VersionError
		switch {
		case errors.As(err, &ie):
			ie.Path = path
		case errors.As(err, &ve):
			ve.Path = path
		}
		return nil, err
	}
	return img, nil
}

// ImageStats summarises an image, for aerie inspect.
type ImageStats struct {
	Version      uint16         `json:"version"`
	Chip         string         `json:"chip"`
	Fingerprint  string         `json:"fingerprint"` // %016x
	CoresUsed    int            `json:"cores_used"`
	Neurons      int            `json:"neurons"`
	Generators   int            `json:"generators"`
	Profiles     int            `json:"profiles"`
	EscapeTables int            `json:"escape_tables"` // distinct
	Synapses     int            `json:"synapses"`
	InputAxons   int            `json:"input_axons"`
	OutputAxons  int            `json:"output_axons"`
	InputPorts   int            `json:"input_ports"`
	OutputPorts  int            `json:"output_ports"`
	Populations  int            `json:"populations"`
	Provenance   int            `json:"provenance_entries"`
	Bytes        int64          `json:"bytes"`    // encoded size
	Sections     []SectionStats `json:"sections"` // header first, then the sections in file order
}

// SectionStats is the encoded size of one part of an image.
type SectionStats struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

// Stats counts what the image holds and the bytes of each section as
// MarshalBinary writes them.
func (img *Image) Stats() ImageStats {
	st := ImageStats{Version: img.Version, Chip: img.Chip, Fingerprint: fmt.Sprintf("%016x", img.Fingerprint),
		Provenance: len(img.Provenance)}
	if img.Placement != nil {
		st.Populations = len(img.Placement.Populations)
	}
	if p := img.Program; p != nil {
		st.CoresUsed, st.InputPorts, st.OutputPorts = len(p.Cores), len(p.Inputs), len(p.Outputs)
		for _, u := range coreUsage(p) {
			st.Neurons += u.Neurons
			st.Generators += u.Generators
			st.Profiles += u.Profiles
			st.Synapses += u.Synapses
			st.InputAxons += u.InputAxons
			st.OutputAxons += u.OutputAxons
		}
	}
	lay, _ := img.layout(false)
	st.EscapeTables = len(lay.escapes)
	st.Sections = append(st.Sections, SectionStats{"header", lay.size[0]})
	for k := 1; k <= numKinds; k++ {
		st.Sections = append(st.Sections, SectionStats{kindNames[k], lay.size[k]})
	}
	st.Bytes = lay.total
	return st
}

// coreUsage recomputes what every core of p holds.
func coreUsage(p *chip.Program) []CoreUsage {
	if len(p.Cores) == 0 {
		return nil
	}
	us := make([]CoreUsage, len(p.Cores))
	for k := range p.Cores {
		cp := &p.Cores[k]
		u := &us[k]
		u.Core, u.Neurons, u.Generators, u.Profiles, u.InputAxons = k, len(cp.Neurons), len(cp.Generators), len(cp.Profiles), len(cp.Axons)
		for i := range cp.Axons {
			u.Synapses += len(cp.Axons[i].Synapses)
		}
		for i := range cp.Neurons {
			u.OutputAxons += len(cp.Neurons[i].Out)
		}
		for i := range cp.Generators {
			u.OutputAxons += len(cp.Generators[i].Out)
		}
	}
	return us
}

// ---- encoding ----

// layout is what the encoder needs before writing: the escape tables and
// the size of every part.
type layout struct {
	escapes  []*chip.Escape
	escIndex map[*chip.Escape]int32
	size     [numKinds + 1]int64 // [0]: the header with its table
	total    int64
	synapses int
}

// escapeKey is the content of an escape table as it is encoded.
func escapeKey(e *chip.Escape) string {
	b := make([]byte, 0, escapeSize+4*len(e.Table))
	b = appendEscape(b, e)
	return string(b)
}

func appendEscape(b []byte, e *chip.Escape) []byte {
	b = append(b, e.Shift)
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Offset))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Table)))
	for _, q := range e.Table {
		b = binary.LittleEndian.AppendUint32(b, q)
	}
	return b
}

// encodeError is a problem that keeps an image from being encoded.
func encodeError(format string, args ...any) error {
	return fmt.Errorf("firmware: image: cannot encode: "+format, args...)
}

// layout collects the escape tables and sizes the sections; with check
// set it also verifies everything the decoder will verify, so that what
// encodes decodes.
func (img *Image) layout(check bool) (*layout, error) {
	lay := &layout{escIndex: map[*chip.Escape]int32{}}
	var errs []error
	fail := func(format string, args ...any) {
		if check && len(errs) < 20 {
			errs = append(errs, encodeError(format, args...))
		}
	}
	p := img.Program
	if p == nil {
		p = &chip.Program{}
		fail("no program")
	}
	if len(img.Chip) > maxNameBytes {
		fail("chip name of %d bytes, at most %d", len(img.Chip), maxNameBytes)
	}
	u32 := func(n int, format string, args ...any) {
		if uint64(n) > math.MaxUint32 {
			fail(format+": %d, at most %d", append(args, n, uint64(math.MaxUint32))...)
		}
	}
	lay.size[0] = headerFixedSize + int64(len(img.Chip)) + 2 + tableEntrySize*int64(numKinds) + 4

	// cores and escape tables
	byContent := map[string]int32{}
	ncores := len(p.Cores)
	u32(ncores, "cores")
	n := int64(8 + 4 + coreDirEntrySize*ncores)
	for c := range p.Cores {
		cp := &p.Cores[c]
		u32(len(cp.Profiles), "core %d profiles", c)
		u32(len(cp.Neurons), "core %d neurons", c)
		u32(len(cp.Axons), "core %d axons", c)
		u32(len(cp.Generators), "core %d generators", c)
		n += profileSize*int64(len(cp.Profiles)) + neuronSize*int64(len(cp.Neurons)) +
			axonSize*int64(len(cp.Axons)) + generatorSize*int64(len(cp.Generators))
		for i := range cp.Profiles {
			e := cp.Profiles[i].Escape
			if e == nil {
				continue
			}
			if _, ok := lay.escIndex[e]; ok {
				continue
			}
			key := escapeKey(e)
			k, ok := byContent[key]
			if !ok {
				k = int32(len(lay.escapes))
				byContent[key] = k
				lay.escapes = append(lay.escapes, e)
				lay.size[kindEscape] += int64(len(key))
				u32(len(e.Table), "escape table of core %d profile %d entries", c, i)
			}
			lay.escIndex[e] = k
		}
		outs, syns := 0, 0
		for i := range cp.Neurons {
			nr := &cp.Neurons[i]
			if int(nr.Profile) >= len(cp.Profiles) {
				fail("neuron %d of core %d: profile %d ≥ %d profiles", i, c, nr.Profile, len(cp.Profiles))
			}
			outs += len(nr.Out)
			if check {
				checkRefs(fail, p, nr.Out, "neuron %d of core %d", i, c)
			}
		}
		for a := range cp.Axons {
			ax := &cp.Axons[a]
			syns += len(ax.Synapses)
			for j := 0; check && j < len(ax.Synapses); j++ {
				if int(ax.Synapses[j].Neuron) >= len(cp.Neurons) {
					fail("axon %d of core %d: synapse %d: neuron %d ≥ %d neurons", a, c, j, ax.Synapses[j].Neuron, len(cp.Neurons))
					break
				}
			}
		}
		for g := range cp.Generators {
			gen := &cp.Generators[g]
			if len(gen.Counts) > math.MaxUint8 {
				fail("generator %d of core %d: %d counts, at most %d", g, c, len(gen.Counts), math.MaxUint8)
			}
			n += 4 * int64(len(gen.Counts))
			outs += len(gen.Out)
			if check {
				checkRefs(fail, p, gen.Out, "generator %d of core %d", g, c)
			}
		}
		u32(outs, "core %d output refs", c)
		u32(syns, "core %d synapses", c)
		lay.synapses += syns
		n += refSize*int64(outs) + synapseSize*int64(syns)
	}
	u32(len(lay.escapes), "escape tables")
	lay.size[kindCores] = n
	lay.size[kindEscape] += 4

	// ports
	n = 8
	u32(len(p.Inputs), "input ports")
	u32(len(p.Outputs), "output ports")
	for i := range p.Inputs {
		in := &p.Inputs[i]
		if len(in.Name) > maxNameBytes {
			fail("input port %d: name of %d bytes, at most %d", i, len(in.Name), maxNameBytes)
		}
		u32(len(in.Channels), "input port %d channels", i)
		n += 2 + int64(len(in.Name)) + 4
		for ch, refs := range in.Channels {
			n += 4 + refSize*int64(len(refs))
			if check {
				checkRefs(fail, p, refs, "input port %d (%s) channel %d", i, in.Name, ch)
			}
		}
	}
	for i := range p.Outputs {
		out := &p.Outputs[i]
		if len(out.Name) > maxNameBytes {
			fail("output port %d: name of %d bytes, at most %d", i, len(out.Name), maxNameBytes)
		}
		u32(len(out.Neurons), "output port %d neurons", i)
		n += 2 + int64(len(out.Name)) + 4 + refSize*int64(len(out.Neurons))
		for ch, r := range out.Neurons {
			if check && (int(r.Core) >= len(p.Cores) || int(r.Neuron) >= len(p.Cores[r.Core].Neurons)) {
				fail("output port %d channel %d: core %d neuron %d is not a neuron of the program", i, ch, r.Core, r.Neuron)
				break
			}
		}
	}
	lay.size[kindPorts] = n
	lay.size[kindRouters] = 4

	// placement
	n = 8 + 8 + 4
	if pl := img.Placement; pl != nil {
		if pl.Synapses != lay.synapses {
			fail("placement counts %d synapses, the program holds %d", pl.Synapses, lay.synapses)
		}
		if pl.DroppedSynapses < 0 {
			fail("placement counts %d dropped synapses", pl.DroppedSynapses)
		}
		u32(len(pl.Populations), "populations")
		var owned *slotSet
		if check {
			owned = newSlotSet(p)
		}
		for i := range pl.Populations {
			pp := &pl.Populations[i]
			if len(pp.Name) > maxNameBytes {
				fail("population %d: name of %d bytes, at most %d", i, len(pp.Name), maxNameBytes)
			}
			u32(pp.Size, "population %d size", i)
			n += 2 + int64(len(pp.Name)) + 4 + 1 + 4 + 16*int64(len(pp.Pieces))
			if check {
				if msg := owned.checkPieces(p, pp.Source, pp.Size, pp.Pieces); msg != "" {
					fail("population %d (%s): %s", i, pp.Name, msg)
				}
			}
		}
	}
	lay.size[kindPlacement] = n

	// provenance
	n = 4
	if len(img.Provenance) > maxProvPairs {
		fail("%d provenance entries, at most %d", len(img.Provenance), maxProvPairs)
	}
	for k, v := range img.Provenance {
		if len(k) > maxProvString || len(v) > maxProvString {
			fail("provenance entry %.40q: key or value longer than %d bytes", k, maxProvString)
		}
		n += 4 + int64(len(k)) + int64(len(v))
	}
	lay.size[kindProvenance] = n

	for _, s := range lay.size {
		lay.total += s
	}
	if lay.total > MaxImageBytes {
		fail("%d bytes, more than the %d-byte limit of an image", lay.total, int64(MaxImageBytes))
	}
	return lay, errors.Join(errs...)
}

func checkRefs(fail func(string, ...any), p *chip.Program, refs []chip.AxonRef, format string, args ...any) {
	for j, r := range refs {
		if int(r.Core) >= len(p.Cores) {
			fail(format+": ref %d: core %d ≥ %d cores", append(args, j, r.Core, len(p.Cores))...)
			return
		}
		if int(r.Axon) >= len(p.Cores[r.Core].Axons) {
			fail(format+": ref %d: axon %d ≥ core %d's %d axons", append(args, j, r.Axon, r.Core, len(p.Cores[r.Core].Axons))...)
			return
		}
	}
}

// slotSet marks the neuron and generator slots of a program that a
// placement has claimed.
type slotSet struct {
	neuronBase, genBase []int
	bits                []uint64
}

func newSlotSet(p *chip.Program) *slotSet {
	s := &slotSet{neuronBase: make([]int, len(p.Cores)), genBase: make([]int, len(p.Cores))}
	n := 0
	for c := range p.Cores {
		s.neuronBase[c] = n
		n += len(p.Cores[c].Neurons)
		s.genBase[c] = n
		n += len(p.Cores[c].Generators)
	}
	s.bits = make([]uint64, (n+63)/64)
	return s
}

// checkPieces verifies one population's pieces: consecutive members from 0
// to size−1, inside the program's cores and slots, no slot claimed twice.
// It returns "" or what is wrong.
func (s *slotSet) checkPieces(p *chip.Program, source bool, size int, pieces []Piece) string {
	next := uint64(0)
	for k, pc := range pieces {
		if pc.Count == 0 {
			return fmt.Sprintf("piece %d is empty", k)
		}
		if uint64(pc.Start) != next {
			return fmt.Sprintf("piece %d starts at member %d, want %d (pieces cover the members in order, once)", k, pc.Start, next)
		}
		next += uint64(pc.Count)
		if int(pc.Core) >= len(p.Cores) {
			return fmt.Sprintf("piece %d: core %d ≥ %d cores", k, pc.Core, len(p.Cores))
		}
		slots, what, base := len(p.Cores[pc.Core].Neurons), "neuron", s.neuronBase[pc.Core]
		if source {
			slots, what, base = len(p.Cores[pc.Core].Generators), "generator", s.genBase[pc.Core]
		}
		if uint64(pc.First)+uint64(pc.Count) > uint64(slots) {
			return fmt.Sprintf("piece %d: %s slots %d…%d outside core %d's %d", k, what, pc.First, uint64(pc.First)+uint64(pc.Count)-1, pc.Core, slots)
		}
		for j := base + int(pc.First); j < base+int(pc.First)+int(pc.Count); j++ {
			if s.bits[j/64]&(1<<(j%64)) != 0 {
				return fmt.Sprintf("piece %d: core %d %s slot %d belongs to another piece", k, pc.Core, what, j-base)
			}
			s.bits[j/64] |= 1 << (j % 64)
		}
	}
	if next != uint64(size) {
		return fmt.Sprintf("pieces cover %d members of %d", next, size)
	}
	return ""
}

// MarshalBinary encodes the image; the same image always gives the same
// bytes.
func (img *Image) MarshalBinary() ([]byte, error) { return img.AppendBinary(nil) }

// AppendBinary appends the encoded image to b. An image the decoder would
// reject (a reference out of range, a name too long, …) is an error.
func (img *Image) AppendBinary(b []byte) ([]byte, error) {
	lay, err := img.layout(true)
	if err != nil {
		return b, err
	}
	return img.appendLayout(b, lay), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func le16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func le32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func le64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
func str16(b []byte, s string) []byte {
	return append(le16(b, uint16(len(s))), s...)
}

// appendLayout writes the image without checking it (tests use it to
// write invalid images).
func (img *Image) appendLayout(b []byte, lay *layout) []byte {
	start := len(b)
	b = slices.Grow(b, int(lay.total))
	b = append(b, ImageMagic...)
	b = le16(b, currentVersion)
	b = le16(b, minReadVersion)
	b = le32(b, 0)
	b = le64(b, img.Fingerprint)
	b = le16(b, img.FingerprintVersion)
	b = str16(b, img.Chip)
	b = le16(b, uint16(numKinds))
	table := len(b)
	b = append(b, make([]byte, tableEntrySize*numKinds+4)...)
	p := img.Program
	if p == nil {
		p = &chip.Program{}
	}
	for k := 1; k <= numKinds; k++ {
		off := len(b)
		switch uint16(k) {
		case kindCores:
			b = appendCores(b, p, lay)
		case kindEscape:
			b = le32(b, uint32(len(lay.escapes)))
			for _, e := range lay.escapes {
				b = appendEscape(b, e)
			}
		case kindPorts:
			b = appendPorts(b, p)
		case kindRouters:
			b = le32(b, 0)
		case kindPlacement:
			b = img.appendPlacement(b, lay)
		case kindProvenance:
			b = le32(b, uint32(len(img.Provenance)))
			for _, key := range slices.Sorted(maps.Keys(img.Provenance)) {
				b = str16(b, key)
				b = str16(b, img.Provenance[key])
			}
		}
		e := b[table+tableEntrySize*(k-1):]
		binary.LittleEndian.PutUint16(e, uint16(k))
		binary.LittleEndian.PutUint16(e[2:], 0)
		binary.LittleEndian.PutUint64(e[4:], uint64(off-start))
		binary.LittleEndian.PutUint64(e[12:], uint64(len(b)-off))
		binary.LittleEndian.PutUint32(e[20:], crc32.Checksum(b[off:], castagnoli))
	}
	h := table + tableEntrySize*numKinds
	binary.LittleEndian.PutUint32(b[h:], crc32.Checksum(b[start:h], castagnoli))
	return b
}

func appendRefs(b []byte, refs []chip.AxonRef) []byte {
	b = le32(b, uint32(len(refs)))
	for _, r := range refs {
		b = le32(b, r.Core)
		b = le32(b, r.Axon)
	}
	return b
}

func appendCores(b []byte, p *chip.Program, lay *layout) []byte {
	b = le64(b, p.Seed)
	b = le32(b, uint32(len(p.Cores)))
	for _, u := range coreUsage(p) {
		b = le32(b, uint32(u.Profiles))
		b = le32(b, uint32(u.Neurons))
		b = le32(b, uint32(u.InputAxons))
		b = le32(b, uint32(u.Generators))
		b = le32(b, uint32(u.Synapses))
		b = le32(b, uint32(u.OutputAxons))
	}
	for c := range p.Cores {
		cp := &p.Cores[c]
		for i := range cp.Profiles {
			pr := &cp.Profiles[i]
			for _, d := range pr.Du {
				b = le16(b, d)
			}
			b = le16(b, pr.Dv)
			b = le32(b, uint32(pr.Vth))
			b = le16(b, pr.Refractory)
			esc := int32(-1)
			if pr.Escape != nil {
				esc = lay.escIndex[pr.Escape]
			}
			b = le32(b, uint32(esc))
			flags := byte(0)
			if pr.Readout {
				flags |= profileReadout
			}
			b = append(b, flags)
		}
		for i := range cp.Neurons {
			nr := &cp.Neurons[i]
			b = le16(b, nr.Profile)
			b = le32(b, uint32(nr.BiasMant))
			b = append(b, nr.BiasExp)
			b = le32(b, uint32(nr.V))
			b = le32(b, nr.NoiseKey)
			b = appendRefs(b, nr.Out)
		}
		for a := range cp.Axons {
			ax := &cp.Axons[a]
			b = append(b, byte(ax.WeightExp))
			b = le32(b, uint32(len(ax.Synapses)))
			at := len(b)
			b = append(b, make([]byte, synapseSize*len(ax.Synapses))...)
			q := b[at:]
			for _, s := range ax.Synapses {
				binary.LittleEndian.PutUint32(q, s.Neuron)
				q[4], q[5] = s.Type, s.Delay
				binary.LittleEndian.PutUint32(q[6:], uint32(s.Weight))
				q = q[synapseSize:]
			}
		}
		for g := range cp.Generators {
			gen := &cp.Generators[g]
			b = le64(b, gen.Seed)
			b = le32(b, gen.Prob)
			b = le32(b, gen.Period)
			b = le32(b, gen.Phase)
			b = le32(b, gen.NoiseKey)
			b = append(b, uint8(len(gen.Counts)))
			for _, k := range gen.Counts {
				b = le32(b, k)
			}
			b = appendRefs(b, gen.Out)
		}
	}
	return b
}

func appendPorts(b []byte, p *chip.Program) []byte {
	b = le32(b, uint32(len(p.Inputs)))
	for i := range p.Inputs {
		in := &p.Inputs[i]
		b = str16(b, in.Name)
		b = le32(b, uint32(len(in.Channels)))
		for _, refs := range in.Channels {
			b = appendRefs(b, refs)
		}
	}
	b = le32(b, uint32(len(p.Outputs)))
	for i := range p.Outputs {
		out := &p.Outputs[i]
		b = str16(b, out.Name)
		b = le32(b, uint32(len(out.Neurons)))
		for _, r := range out.Neurons {
			b = le32(b, r.Core)
			b = le32(b, r.Neuron)
		}
	}
	return b
}

func (img *Image) appendPlacement(b []byte, lay *layout) []byte {
	pl := img.Placement
	if pl == nil {
		pl = &Placement{Synapses: lay.synapses}
	}
	b = le64(b, uint64(pl.Synapses))
	b = le64(b, uint64(pl.DroppedSynapses))
	b = le32(b, uint32(len(pl.Populations)))
	for i := range pl.Populations {
		pp := &pl.Populations[i]
		b = str16(b, pp.Name)
		b = le32(b, uint32(pp.Size))
		var flags byte
		if pp.Source {
			flags = 1
		}
		b = append(b, flags)
		b = le32(b, uint32(len(pp.Pieces)))
		for _, pc := range pp.Pieces {
			b = le32(b, pc.Core)
			b = le32(b, pc.First)
			b = le32(b, pc.Count)
			b = le32(b, pc.Start)
		}
	}
	return b
}

// ---- decoding ----

// reader reads one part of an image. Errors are sticky: after the first,
// reads return zeros and nil.
type reader struct {
	b    []byte
	off  int
	base int64 // offset of b[0] in the image
	sect string
	err  *ImageError
}

func (r *reader) failAt(off int, format string, args ...any) {
	if r.err == nil {
		r.err = &ImageError{Section: r.sect, Offset: r.base + int64(off), Msg: fmt.Sprintf(format, args...)}
	}
}

// prefix puts context in front of the error's message.
func (r *reader) prefix(format string, args ...any) {
	if r.err != nil {
		r.err.Msg = fmt.Sprintf(format, args...) + ": " + r.err.Msg
	}
}

func (r *reader) left() int { return len(r.b) - r.off }

// take returns the next n bytes, or nil once fewer remain.
func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.failAt(r.off, "%d bytes needed, %d left in the section", n, r.left())
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() uint8 {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// count reads a u32 count of entries of at least size bytes each and
// checks that the section holds them.
func (r *reader) count(size int, what string) int {
	at := r.off
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if need := uint64(n) * uint64(size); need > uint64(r.left()) {
		r.failAt(at, "%d %s of ≥ %d bytes need %d bytes, %d left", n, what, size, need, r.left())
		return 0
	}
	return int(n)
}

// str reads a u16-length string of at most max bytes.
func (r *reader) str(max int, what string) string {
	at := r.off
	n := int(r.u16())
	if r.err != nil {
		return ""
	}
	if n > max {
		r.failAt(at, "%s of %d bytes, at most %d", what, n, max)
		return ""
	}
	return string(r.take(n))
}

// end checks that the section is used up.
func (r *reader) end() {
	if r.err == nil && r.left() != 0 {
		r.failAt(r.off, "%d trailing bytes of the section's %d are unused", r.left(), len(r.b))
	}
}

type coreDir struct {
	profiles, neurons, axons, generators, synapses, outs uint32
}

// decoder holds what the sections tell about each other.
type decoder struct {
	prog    *chip.Program
	dir     []coreDir
	escapes []*chip.Escape
}

// DecodeImage decodes an image (see Image for the format and the checks).
// The error is an *ImageError (errors.Is(err, ErrCorruptImage)) or a
// *VersionError (errors.Is(err, ErrImageVersion)). The image does not
// retain b.
func DecodeImage(b []byte) (*Image, error) {
	h := &reader{b: b, sect: "header"}
	fail := func(off int, format string, args ...any) (*Image, error) {
		h.failAt(off, format, args...)
		return nil, h.err
	}
	if len(b) > MaxImageBytes {
		return fail(0, "%d bytes, more than the %d-byte limit of an image", len(b), int64(MaxImageBytes))
	}
	if m := min(len(b), len(ImageMagic)); string(b[:m]) != ImageMagic[:m] {
		return fail(0, "not an aerie configuration image (magic %q, want %q)", b[:m], ImageMagic)
	}
	if len(b) < 12 {
		return fail(len(b), "%d bytes, shorter than the magic and versions", len(b))
	}
	version, minReader := binary.LittleEndian.Uint16(b[8:]), binary.LittleEndian.Uint16(b[10:])
	if minReader == 0 || minReader > version {
		return fail(10, "minimum reader version %d of a version %d image", minReader, version)
	}
	if minReader > currentVersion || version < minReadVersion {
		return nil, &VersionError{Version: version, MinReader: minReader}
	}
	h.off = 12
	flags := h.u32()
	fp := h.u64()
	fpVersion := h.u16()
	name := h.str(maxNameBytes, "chip name")
	nsect := int(h.u16())
	if h.err != nil {
		return nil, h.err
	}
	if nsect > maxSections {
		return fail(h.off-2, "%d sections, at most %d", nsect, maxSections)
	}
	tableAt := h.off
	tab := h.take(tableEntrySize * nsect)
	crcAt := h.off
	stored := h.u32()
	if h.err != nil {
		return nil, h.err
	}
	if got := crc32.Checksum(b[:crcAt], castagnoli); got != stored {
		return fail(crcAt, "header crc32c %08x, computed %08x", stored, got)
	}
	if flags != 0 {
		return fail(12, "flags %#x: no flags are defined", flags)
	}

	// the section table
	var body [numKinds + 1][]byte
	var bodyAt [numKinds + 1]int
	next := uint64(crcAt + 4)
	prevKind := uint16(0)
	for s := 0; s < nsect; s++ {
		at := tableAt + tableEntrySize*s
		e := tab[tableEntrySize*s:]
		kind, reserved := binary.LittleEndian.Uint16(e), binary.LittleEndian.Uint16(e[2:])
		off, length, crc := binary.LittleEndian.Uint64(e[4:]), binary.LittleEndian.Uint64(e[12:]), binary.LittleEndian.Uint32(e[20:])
		switch {
		case kind <= prevKind:
			return fail(at, "section %d has kind %d after kind %d: the table is sorted by kind, each kind once", s, kind, prevKind)
		case reserved != 0:
			return fail(at+2, "section %d (%s): reserved field %#x, want 0", s, kindName(kind), reserved)
		case off != next:
			return fail(at+4, "section %d (%s) at offset %d, want %d: sections follow the header and each other without gaps or overlaps", s, kindName(kind), off, next)
		case length > uint64(len(b))-off:
			return fail(at+12, "section %d (%s): %d bytes at offset %d run past the image's end at %d", s, kindName(kind), length, off, len(b))
		}
		sec := b[off : off+length]
		if got := crc32.Checksum(sec, castagnoli); got != crc {
			return nil, &ImageError{Section: kindName(kind), Offset: int64(off), Msg: fmt.Sprintf("crc32c %08x, the section table says %08x", got, crc)}
		}
		next = off + length
		prevKind = kind
		if int(kind) > numKinds {
			if version > currentVersion {
				continue // a later version's section: skipped, as that version allows
			}
			return fail(at, "section %d: unknown kind %d (format version %d has kinds 1…%d)", s, kind, version, numKinds)
		}
		body[kind], bodyAt[kind] = sec, int(off)
	}
	if next != uint64(len(b)) {
		return fail(int(next), "%d trailing bytes after the last section", uint64(len(b))-next)
	}
	for k := 1; k <= numKinds; k++ {
		if body[k] == nil {
			return fail(tableAt, "no %s section", kindNames[k])
		}
	}

	d := &decoder{prog: &chip.Program{}}
	img := &Image{Version: version, Chip: name, Fingerprint: fp, FingerprintVersion: fpVersion, Program: d.prog}
	for _, k := range []uint16{kindEscape, kindCores, kindPorts, kindRouters, kindPlacement, kindProvenance} {
		r := &reader{b: body[k], base: int64(bodyAt[k]), sect: kindNames[k]}
		switch k {
		case kindEscape:
			d.escapeTables(r)
		case kindCores:
			d.cores(r)
		case kindPorts:
			d.ports(r)
		case kindRouters:
			if n := r.u32(); r.err == nil && n != 0 {
				r.failAt(0, "%d routing tables: format version 1 has none (the ideal interconnect)", n)
			}
		case kindPlacement:
			img.Placement = d.placement(r)
		case kindProvenance:
			img.Provenance = provenance(r)
		}
		r.end()
		if r.err != nil {
			return nil, r.err
		}
	}
	return img, nil
}

func (d *decoder) escapeTables(r *reader) {
	n := r.count(escapeSize, "escape tables")
	if n == 0 {
		return
	}
	d.escapes = make([]*chip.Escape, n)
	seen := make(map[string]int, n)
	for i := range d.escapes {
		at := r.off
		shift := r.u8()
		offset := int32(r.u32())
		k := r.count(4, "entries")
		p := r.take(4 * k)
		if r.err != nil {
			r.prefix("table %d", i)
			return
		}
		e := &chip.Escape{Shift: shift, Offset: offset}
		if k > 0 {
			e.Table = make([]uint32, k)
			for j := range e.Table {
				e.Table[j] = binary.LittleEndian.Uint32(p[4*j:])
			}
		}
		key := string(r.b[at:r.off])
		if j, dup := seen[key]; dup {
			r.failAt(at, "table %d repeats table %d: each table is stored once", i, j)
			return
		}
		seen[key] = i
		d.escapes[i] = e
	}
}

func (d *decoder) cores(r *reader) {
	d.prog.Seed = r.u64()
	n := r.count(coreDirEntrySize, "cores")
	if r.err != nil || n == 0 {
		if r.err == nil && len(d.escapes) > 0 {
			r.failAt(r.off, "no cores use the %d escape tables", len(d.escapes))
		}
		return
	}
	d.dir = make([]coreDir, n)
	left := uint64(r.left() - coreDirEntrySize*n)
	need := uint64(0)
	for c := range d.dir {
		at := r.off
		p := r.take(coreDirEntrySize)
		u := coreDir{binary.LittleEndian.Uint32(p), binary.LittleEndian.Uint32(p[4:]), binary.LittleEndian.Uint32(p[8:]),
			binary.LittleEndian.Uint32(p[12:]), binary.LittleEndian.Uint32(p[16:]), binary.LittleEndian.Uint32(p[20:])}
		need += profileSize*uint64(u.profiles) + neuronSize*uint64(u.neurons) + axonSize*uint64(u.axons) +
			generatorSize*uint64(u.generators) + synapseSize*uint64(u.synapses) + refSize*uint64(u.outs)
		if need > left {
			r.failAt(at, "core %d: %d profiles, %d neurons, %d axons, %d generators, %d synapses and %d output refs need, with the cores before it, %d bytes; %d are left",
				c, u.profiles, u.neurons, u.axons, u.generators, u.synapses, u.outs, need, left)
			return
		}
		d.dir[c] = u
	}
	d.prog.Cores = make([]chip.CoreProgram, n)
	usedEscapes := 0
	for c := range d.prog.Cores {
		if !d.core(r, c, &usedEscapes) {
			return
		}
	}
	if usedEscapes != len(d.escapes) {
		r.failAt(r.off, "the profiles use %d of the %d escape tables", usedEscapes, len(d.escapes))
	}
}

// refs reads k axon refs into dst, checking each against the directory.
func (d *decoder) refs(r *reader, dst []chip.AxonRef) bool {
	at := r.off
	p := r.take(refSize * len(dst))
	if p == nil {
		return false
	}
	for j := range dst {
		core, axon := binary.LittleEndian.Uint32(p[refSize*j:]), binary.LittleEndian.Uint32(p[refSize*j+4:])
		if int(core) >= len(d.dir) {
			r.failAt(at+refSize*j, "ref %d: core %d ≥ %d cores", j, core, len(d.dir))
			return false
		}
		if axon >= d.dir[core].axons {
			r.failAt(at+refSize*j+4, "ref %d: axon %d ≥ core %d's %d axons", j, axon, core, d.dir[core].axons)
			return false
		}
		dst[j] = chip.AxonRef{Core: core, Axon: axon}
	}
	return true
}

// outRefs reads a count and that many refs from the core's ref budget.
func (d *decoder) outRefs(r *reader, refs []chip.AxonRef, used *int) []chip.AxonRef {
	at := r.off
	k := int(r.u32())
	if r.err != nil {
		return nil
	}
	if k > len(refs)-*used {
		r.failAt(at, "%d output refs, but the core's directory entry leaves %d", k, len(refs)-*used)
		return nil
	}
	if k == 0 {
		return nil
	}
	dst := refs[*used : *used+k : *used+k]
	*used += k
	if !d.refs(r, dst) {
		return nil
	}
	return dst
}

func (d *decoder) core(r *reader, c int, usedEscapes *int) bool {
	u := d.dir[c]
	cp := &d.prog.Cores[c]
	if u.profiles > 0 {
		cp.Profiles = make([]chip.Profile, u.profiles)
	}
	for i := range cp.Profiles {
		at := r.off
		p := r.take(profileSize)
		if p == nil {
			r.prefix("profile %d of core %d", i, c)
			return false
		}
		pr := &cp.Profiles[i]
		pr.Du = [4]uint16{binary.LittleEndian.Uint16(p), binary.LittleEndian.Uint16(p[2:]), binary.LittleEndian.Uint16(p[4:]), binary.LittleEndian.Uint16(p[6:])}
		pr.Dv = binary.LittleEndian.Uint16(p[8:])
		pr.Vth = int32(binary.LittleEndian.Uint32(p[10:]))
		pr.Refractory = binary.LittleEndian.Uint16(p[14:])
		switch e := int32(binary.LittleEndian.Uint32(p[16:])); {
		case e == -1:
		case e < -1 || int(e) >= len(d.escapes):
			r.failAt(at+16, "profile %d of core %d: escape table %d, want −1 or 0…%d", i, c, e, len(d.escapes)-1)
			return false
		case int(e) > *usedEscapes:
			r.failAt(at+16, "profile %d of core %d: escape table %d before table %d was used: tables are stored in order of first use", i, c, e, *usedEscapes)
			return false
		default:
			if int(e) == *usedEscapes {
				*usedEscapes++
			}
			pr.Escape = d.escapes[e]
		}
		switch f := p[20]; {
		case f&^profileReadout != 0:
			r.failAt(at+20, "profile %d of core %d: flags %#x, want only bit 0 (readout)", i, c, f)
			return false
		case f&profileReadout != 0:
			pr.Readout = true
		}
	}
	var refs []chip.AxonRef
	if u.outs > 0 {
		refs = make([]chip.AxonRef, u.outs)
	}
	usedRefs := 0
	if u.neurons > 0 {
		cp.Neurons = make([]chip.Neuron, u.neurons)
	}
	for i := range cp.Neurons {
		at := r.off
		p := r.take(neuronSize - 4)
		if p == nil {
			r.prefix("neuron %d of core %d", i, c)
			return false
		}
		nr := &cp.Neurons[i]
		nr.Profile = binary.LittleEndian.Uint16(p)
		if uint32(nr.Profile) >= u.profiles {
			r.failAt(at, "neuron %d of core %d: profile %d ≥ %d profiles", i, c, nr.Profile, u.profiles)
			return false
		}
		nr.BiasMant = int32(binary.LittleEndian.Uint32(p[2:]))
		nr.BiasExp = p[6]
		nr.V = int32(binary.LittleEndian.Uint32(p[7:]))
		nr.NoiseKey = binary.LittleEndian.Uint32(p[11:])
		nr.Out = d.outRefs(r, refs, &usedRefs)
		if r.err != nil {
			r.prefix("neuron %d of core %d", i, c)
			return false
		}
	}
	var syn []chip.Synapse
	if u.synapses > 0 {
		syn = make([]chip.Synapse, u.synapses)
	}
	usedSyn := 0
	if u.axons > 0 {
		cp.Axons = make([]chip.Axon, u.axons)
	}
	for a := range cp.Axons {
		at := r.off
		p := r.take(axonSize)
		if p == nil {
			r.prefix("axon %d of core %d", a, c)
			return false
		}
		ax := &cp.Axons[a]
		ax.WeightExp = int8(p[0])
		k := int(binary.LittleEndian.Uint32(p[1:]))
		if k > len(syn)-usedSyn {
			r.failAt(at+1, "axon %d of core %d: %d synapses, but the core's directory entry leaves %d", a, c, k, len(syn)-usedSyn)
			return false
		}
		if k == 0 {
			continue
		}
		at = r.off
		q := r.take(synapseSize * k)
		if q == nil {
			r.prefix("axon %d of core %d", a, c)
			return false
		}
		row := syn[usedSyn : usedSyn+k : usedSyn+k]
		usedSyn += k
		nn := u.neurons
		for j := range row {
			s := q[synapseSize*j : synapseSize*j+synapseSize]
			n := binary.LittleEndian.Uint32(s)
			if n >= nn {
				r.failAt(at+synapseSize*j, "axon %d of core %d: synapse %d: neuron %d ≥ %d neurons", a, c, j, n, nn)
				return false
			}
			row[j] = chip.Synapse{Neuron: n, Type: s[4], Delay: s[5], Weight: int32(binary.LittleEndian.Uint32(s[6:]))}
		}
		ax.Synapses = row
	}
	if usedSyn != len(syn) {
		r.failAt(r.off, "core %d: the axons hold %d synapses, its directory entry says %d", c, usedSyn, len(syn))
		return false
	}
	if u.generators > 0 {
		cp.Generators = make([]chip.Generator, u.generators)
	}
	for g := range cp.Generators {
		p := r.take(generatorSize - 4)
		if p == nil {
			r.prefix("generator %d of core %d", g, c)
			return false
		}
		gen := &cp.Generators[g]
		gen.Seed = binary.LittleEndian.Uint64(p)
		gen.Prob = binary.LittleEndian.Uint32(p[8:])
		gen.Period = binary.LittleEndian.Uint32(p[12:])
		gen.Phase = binary.LittleEndian.Uint32(p[16:])
		gen.NoiseKey = binary.LittleEndian.Uint32(p[20:])
		if k := int(p[24]); k > 0 {
			q := r.take(4 * k)
			if q == nil {
				r.prefix("generator %d of core %d: counts", g, c)
				return false
			}
			gen.Counts = make([]uint32, k)
			for j := range gen.Counts {
				gen.Counts[j] = binary.LittleEndian.Uint32(q[4*j:])
			}
		}
		gen.Out = d.outRefs(r, refs, &usedRefs)
		if r.err != nil {
			r.prefix("generator %d of core %d", g, c)
			return false
		}
	}
	if usedRefs != len(refs) {
		r.failAt(r.off, "core %d: the neurons and generators hold %d output refs, its directory entry says %d", c, usedRefs, len(refs))
		return false
	}
	return true
}

func (d *decoder) ports(r *reader) {
	n := r.count(2+4, "input ports")
	if n > 0 {
		d.prog.Inputs = make([]chip.InputPort, n)
	}
	for i := range d.prog.Inputs {
		in := &d.prog.Inputs[i]
		in.Name = r.str(maxNameBytes, "name")
		nch := r.count(4, "channels")
		if r.err != nil {
			r.prefix("input port %d", i)
			return
		}
		if nch > 0 {
			in.Channels = make([][]chip.AxonRef, nch)
		}
		for ch := range in.Channels {
			k := r.count(refSize, "refs")
			if k > 0 {
				in.Channels[ch] = make([]chip.AxonRef, k)
				d.refs(r, in.Channels[ch])
			}
			if r.err != nil {
				r.prefix("input port %d (%s) channel %d", i, in.Name, ch)
				return
			}
		}
	}
	n = r.count(2+4, "output ports")
	if n > 0 {
		d.prog.Outputs = make([]chip.OutputPort, n)
	}
	for i := range d.prog.Outputs {
		out := &d.prog.Outputs[i]
		out.Name = r.str(maxNameBytes, "name")
		k := r.count(refSize, "neurons")
		at := r.off
		p := r.take(refSize * k)
		if r.err != nil {
			r.prefix("output port %d", i)
			return
		}
		if k > 0 {
			out.Neurons = make([]chip.NeuronRef, k)
		}
		for ch := range out.Neurons {
			core, nr := binary.LittleEndian.Uint32(p[refSize*ch:]), binary.LittleEndian.Uint32(p[refSize*ch+4:])
			if int(core) >= len(d.dir) || nr >= d.dir[core].neurons {
				r.failAt(at+refSize*ch, "output port %d (%s) channel %d: core %d neuron %d is not a neuron of the program", i, out.Name, ch, core, nr)
				return
			}
			out.Neurons[ch] = chip.NeuronRef{Core: core, Neuron: nr}
		}
	}
}

func (d *decoder) placement(r *reader) *Placement {
	pl := &Placement{Cores: coreUsage(d.prog)}
	at := r.off
	syn, dropped := r.u64(), r.u64()
	total := uint64(0)
	for _, u := range d.dir {
		total += uint64(u.synapses)
	}
	if r.err == nil && syn != total {
		r.failAt(at, "%d synapses, the program holds %d", syn, total)
	}
	if r.err == nil && dropped > math.MaxInt64 {
		r.failAt(at+8, "%d dropped synapses", dropped)
	}
	pl.Synapses, pl.DroppedSynapses = int(syn), int(dropped)
	n := r.count(2+4+1+4, "populations")
	if r.err != nil {
		return nil
	}
	if n > 0 {
		pl.Populations = make([]PlacedPopulation, n)
	}
	owned := newSlotSet(d.prog)
	for i := range pl.Populations {
		pp := &pl.Populations[i]
		pp.Name = r.str(maxNameBytes, "name")
		pp.Size = int(r.u32())
		flagsAt := r.off
		flags := r.u8()
		k := r.count(16, "pieces")
		at := r.off
		p := r.take(16 * k)
		if r.err != nil {
			r.prefix("population %d", i)
			return nil
		}
		if flags > 1 {
			r.failAt(flagsAt, "population %d (%s): flags %#x, want 0 or 1 (source)", i, pp.Name, flags)
			return nil
		}
		pp.Source = flags == 1
		if k > 0 {
			pp.Pieces = make([]Piece, k)
		}
		for j := range pp.Pieces {
			q := p[16*j:]
			pp.Pieces[j] = Piece{Core: binary.LittleEndian.Uint32(q), First: binary.LittleEndian.Uint32(q[4:]),
				Count: binary.LittleEndian.Uint32(q[8:]), Start: binary.LittleEndian.Uint32(q[12:])}
		}
		if msg := owned.checkPieces(d.prog, pp.Source, pp.Size, pp.Pieces); msg != "" {
			r.failAt(at, "population %d (%s): %s", i, pp.Name, msg)
			return nil
		}
	}
	return pl
}

func provenance(r *reader) map[string]string {
	at := r.off
	n := r.count(4, "provenance entries")
	if r.err != nil {
		return nil
	}
	if n > maxProvPairs {
		r.failAt(at, "%d provenance entries, at most %d", n, maxProvPairs)
		return nil
	}
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	prev := ""
	for i := 0; i < n; i++ {
		at := r.off
		k := r.str(maxProvString, "key")
		v := r.str(maxProvString, "value")
		if r.err != nil {
			r.prefix("entry %d", i)
			return nil
		}
		if i > 0 && k <= prev {
			r.failAt(at, "entry %d: key %.40q after %.40q: keys are sorted and distinct", i, k, prev)
			return nil
		}
		m[k], prev = v, k
	}
	return m
}
