package trainer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"

	"github.com/aerie-neuro/aerie/internal/fileio"
)

// The model file format (version 1) is drawn and described in the package
// doc.
const (
	fileMagic     = "AERIEMD\x1a"
	fileVersion   = 1 // version 1: the layout above
	maxHeaderLen  = 1 << 20
	maxTensors    = 4096
	maxTensorName = 64
	maxTensorLen  = 1 << 28
)

// ErrCorrupt is wrapped by every decoding error caused by the bytes of a
// model file (as opposed to I/O).
var ErrCorrupt = errors.New("trainer: corrupt model file")

// Meta is free provenance stored with a model.
type Meta struct {
	Task         string  `json:"task,omitempty"`
	Epochs       int     `json:"epochs,omitempty"`
	Seed         uint64  `json:"seed,omitempty"`
	ValAccuracy  float64 `json:"val_accuracy,omitempty"`
	TestAccuracy float64 `json:"test_accuracy,omitempty"`
	Config       string  `json:"config,omitempty"` // the TOML the model was trained from
}

type fileHeader struct {
	Kind  string      `json:"kind"`
	Spec  Spec        `json:"spec"`
	Meta  Meta        `json:"meta"`
	State *trainState `json:"state,omitempty"`
}

// trainState is the part of a Trainer that is not tensors.
type trainState struct {
	Cfg          TrainConfig  `json:"config"`
	Epoch        int          `json:"epoch"`
	Batch        int          `json:"batch"`
	EpochLoss    float64      `json:"epoch_loss"`
	EpochCorrect int          `json:"epoch_correct"`
	EpochSeen    int          `json:"epoch_seen"`
	History      []EpochStats `json:"history"`
	BestEpoch    int          `json:"best_epoch"`
	BestValAcc   float64      `json:"best_val_accuracy"`
	OptSteps     int64        `json:"optimizer_steps"`
}

type corruptError struct {
	off int
	msg string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("trainer: corrupt model file at byte %d: %s", e.off, e.msg)
}
func (e *corruptError) Unwrap() error { return ErrCorrupt }

func encodeFile(h *fileHeader, tensors []Tensor) ([]byte, error) {
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("trainer: encode header: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(fileMagic)
	le := binary.LittleEndian
	b.Write(le.AppendUint32(nil, fileVersion))
	b.Write(le.AppendUint32(nil, uint32(len(hj))))
	b.Write(hj)
	b.Write(le.AppendUint32(nil, uint32(len(tensors))))
	for _, t := range tensors {
		b.Write(le.AppendUint16(nil, uint16(len(t.Name))))
		b.WriteString(t.Name)
		b.Write(le.AppendUint32(nil, uint32(t.Rows)))
		b.Write(le.AppendUint32(nil, uint32(t.Cols)))
		buf := make([]byte, 4*len(t.Data))
		for i, x := range t.Data {
			le.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		b.Write(buf)
	}
	out := b.Bytes()
	return le.AppendUint32(out, crc32.Checksum(out, crcTable)), nil
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// decodeFile parses the container; it never panics and allocates at most
// in proportion to len(b).
func decodeFile(b []byte) (*fileHeader, []Tensor, error) {
	le := binary.LittleEndian
	if len(b) < 8+4+4+4+4 {
		return nil, nil, &corruptError{0, fmt.Sprintf("%d bytes is too short", len(b))}
	}
	if string(b[:8]) != fileMagic {
		return nil, nil, &corruptError{0, "bad magic (not an aerie model file)"}
	}
	if v := le.Uint32(b[8:]); v != fileVersion {
		return nil, nil, &corruptError{8, fmt.Sprintf("unsupported version %d (this build reads %d)", v, fileVersion)}
	}
	body := b[:len(b)-4]
	if got, want := crc32.Checksum(body, crcTable), le.Uint32(b[len(b)-4:]); got != want {
		return nil, nil, &corruptError{len(b) - 4, fmt.Sprintf("CRC-32C mismatch (stored %08x, computed %08x)", want, got)}
	}
	off := 12
	hl := int(le.Uint32(b[off:]))
	off += 4
	if hl > maxHeaderLen || hl > len(body)-off {
		return nil, nil, &corruptError{12, fmt.Sprintf("header length %d exceeds the file or the %d byte cap", hl, maxHeaderLen)}
	}
	var h fileHeader
	dec := json.NewDecoder(bytes.NewReader(body[off : off+hl]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, nil, &corruptError{off, "header: " + err.Error()}
	}
	off += hl
	if len(body)-off < 4 {
		return nil, nil, &corruptError{off, "truncated before the tensor count"}
	}
	n := int(le.Uint32(body[off:]))
	off += 4
	if n > maxTensors {
		return nil, nil, &corruptError{off - 4, fmt.Sprintf("%d tensors exceeds the cap of %d", n, maxTensors)}
	}
	var ts []Tensor
	for i := 0; i < n; i++ {
		start := off
		if len(body)-off < 2 {
			return nil, nil, &corruptError{off, fmt.Sprintf("tensor %d: truncated", i)}
		}
		nl := int(le.Uint16(body[off:]))
		off += 2
		if nl > maxTensorName || len(body)-off < nl+8 {
			return nil, nil, &corruptError{start, fmt.Sprintf("tensor %d: bad name length %d or truncated", i, nl)}
		}
		name := string(body[off : off+nl])
		off += nl
		rows, cols := uint64(le.Uint32(body[off:])), uint64(le.Uint32(body[off+4:]))
		off += 8
		cnt := rows * cols
		if cnt > maxTensorLen || uint64(len(body)-off) < 4*cnt {
			return nil, nil, &corruptError{start, fmt.Sprintf("tensor %d (%q): %d×%d values exceed the file", i, name, rows, cols)}
		}
		data := make([]float32, cnt)
		for j := range data {
			data[j] = math.Float32frombits(le.Uint32(body[off+4*j:]))
		}
		off += 4 * int(cnt)
		ts = append(ts, Tensor{Name: name, Rows: int(rows), Cols: int(cols), Data: data})
	}
	if off != len(body) {
		return nil, nil, &corruptError{off, fmt.Sprintf("%d bytes of trailing data", len(body)-off)}
	}
	return &h, ts, nil
}

// takeParams checks that ts starts with exactly the layout of spec (after
// prefix is stripped from the names) and returns those tensors and the rest.
func takeParams(spec *Spec, ts []Tensor, prefix string) ([]Tensor, []Tensor, error) {
	lay := layout(spec)
	if len(ts) < len(lay) {
		return nil, nil, &corruptError{0, fmt.Sprintf("%d tensors, the network needs %d", len(ts), len(lay))}
	}
	out := make([]Tensor, len(lay))
	for i, l := range lay {
		t := ts[i]
		if t.Name != prefix+l.name || t.Rows != l.rows || t.Cols != l.cols {
			return nil, nil, &corruptError{0, fmt.Sprintf("tensor %d is %q %d×%d, want %q %d×%d", i, t.Name, t.Rows, t.Cols, prefix+l.name, l.rows, l.cols)}
		}
		for j, x := range t.Data {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, nil, &corruptError{0, fmt.Sprintf("tensor %q: value %d is %v", t.Name, j, x)}
			}
		}
		t.Name = l.name
		out[i] = t
	}
	return out, ts[len(lay):], nil
}

// unprefixed is the text of a (joined) error of this package on one line,
// without the package prefix that the corruption error gives already.
func unprefixed(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "trainer: ")
	}
	return strings.Join(lines, "; ")
}

// MarshalModel encodes m with meta as a model file.
func MarshalModel(m *Model, meta Meta) ([]byte, error) {
	return encodeFile(&fileHeader{Kind: "model", Spec: m.Spec, Meta: meta}, m.Params)
}

// UnmarshalModel decodes a model file (a checkpoint also works: its current
// model is returned).
func UnmarshalModel(b []byte) (*Model, Meta, error) {
	h, ts, err := decodeFile(b)
	if err != nil {
		return nil, Meta{}, err
	}
	m, _, err := modelFrom(h, ts)
	if err != nil {
		return nil, Meta{}, err
	}
	return m, h.Meta, nil
}

func modelFrom(h *fileHeader, ts []Tensor) (*Model, []Tensor, error) {
	switch h.Kind {
	case "model", "checkpoint":
	default:
		return nil, nil, &corruptError{16, fmt.Sprintf("unknown kind %q", h.Kind)}
	}
	// No defaults: a model file stores its spec complete (NewModel filled
	// the defaults before it was written), so a zero here is a zero, and
	// the spec is held to the ranges of a training config.
	spec := h.Spec
	if err := checkSpec(&spec); err != nil {
		return nil, nil, &corruptError{16, "header: " + unprefixed(err)}
	}
	params, rest, err := takeParams(&spec, ts, "")
	if err != nil {
		return nil, nil, err
	}
	return &Model{Spec: spec, Params: params}, rest, nil
}

// MaxHistory bounds the per-epoch history that a trainer keeps and a
// checkpoint stores: the last MaxHistory epochs (a few hundred bytes
// each), so that a checkpoint rewritten after every epoch of a long run of
// short epochs stays the size of its tensors.
const MaxHistory = 1000

// recentHistory is the tail of h that a trainer keeps.
func recentHistory(h []EpochStats) []EpochStats {
	if len(h) > MaxHistory {
		return h[len(h)-MaxHistory:]
	}
	return h
}

// MarshalCheckpoint encodes the whole trainer state: model, optimizer,
// position in the run, the last MaxHistory epochs of history and the best
// model.
func (tr *Trainer) MarshalCheckpoint(meta Meta) ([]byte, error) {
	st := &trainState{Cfg: tr.Cfg, Epoch: tr.Epoch, Batch: tr.Batch, EpochLoss: tr.EpochLoss,
		EpochCorrect: tr.EpochCorrect, EpochSeen: tr.EpochSeen, History: recentHistory(tr.History),
		BestEpoch: tr.BestEpoch, BestValAcc: tr.BestValAcc, OptSteps: tr.opt.steps}
	ts := append([]Tensor(nil), tr.Model.Params...)
	for i, s := range tr.opt.s {
		if s != nil {
			ts = append(ts, Tensor{Name: fmt.Sprintf("opt.%d", i), Rows: 1, Cols: len(s), Data: s})
		}
	}
	if tr.Best != nil {
		for _, t := range tr.Best.Params {
			t.Name = "best." + t.Name
			ts = append(ts, t)
		}
	}
	return encodeFile(&fileHeader{Kind: "checkpoint", Spec: tr.Model.Spec, Meta: meta, State: st}, ts)
}

// UnmarshalCheckpoint restores a trainer from a checkpoint.
func UnmarshalCheckpoint(b []byte) (*Trainer, Meta, error) {
	h, ts, err := decodeFile(b)
	if err != nil {
		return nil, Meta{}, err
	}
	if h.Kind != "checkpoint" || h.State == nil {
		return nil, Meta{}, fmt.Errorf("trainer: not a checkpoint (kind %q)", h.Kind)
	}
	m, rest, err := modelFrom(h, ts)
	if err != nil {
		return nil, Meta{}, err
	}
	st := h.State
	if err := checkTrainConfig(&st.Cfg); err != nil {
		return nil, Meta{}, &corruptError{16, "header: " + unprefixed(err)}
	}
	tr, err := NewTrainer(m, st.Cfg)
	if err != nil {
		return nil, Meta{}, &corruptError{16, err.Error()}
	}
	for i := range tr.opt.s {
		if tr.opt.s[i] == nil {
			continue
		}
		if len(rest) == 0 || rest[0].Name != fmt.Sprintf("opt.%d", i) || len(rest[0].Data) != len(tr.opt.s[i]) {
			return nil, Meta{}, &corruptError{0, fmt.Sprintf("missing or mis-sized optimizer state opt.%d", i)}
		}
		copy(tr.opt.s[i], rest[0].Data)
		rest = rest[1:]
	}
	tr.opt.steps = st.OptSteps
	if len(rest) > 0 {
		best, more, err := takeParams(&m.Spec, rest, "best.")
		if err != nil {
			return nil, Meta{}, err
		}
		if len(more) > 0 {
			return nil, Meta{}, &corruptError{0, fmt.Sprintf("unexpected tensor %q", more[0].Name)}
		}
		tr.Best = &Model{Spec: m.Spec, Params: best}
	}
	switch {
	case st.Epoch < 0 || st.Epoch > MaxEpochs || st.Batch < 0 || st.EpochSeen < 0 || st.EpochCorrect < 0 || st.EpochCorrect > st.EpochSeen:
		return nil, Meta{}, &corruptError{16, "position in the run out of range"}
	case st.BestEpoch < 0 || st.BestEpoch > st.Epoch || !(st.BestValAcc >= 0 && st.BestValAcc <= 1) || st.OptSteps < 0:
		return nil, Meta{}, &corruptError{16, "best epoch or accuracy out of range"}
	case math.IsNaN(st.EpochLoss) || math.IsInf(st.EpochLoss, 0) || st.EpochLoss < 0:
		return nil, Meta{}, &corruptError{16, fmt.Sprintf("running loss %v", st.EpochLoss)}
	}
	tr.Epoch, tr.Batch = st.Epoch, st.Batch
	tr.EpochLoss, tr.EpochCorrect, tr.EpochSeen = st.EpochLoss, st.EpochCorrect, st.EpochSeen
	tr.History, tr.BestEpoch, tr.BestValAcc = recentHistory(st.History), st.BestEpoch, st.BestValAcc
	return tr, h.Meta, nil
}

// MaxModelBytes caps the size of a model or checkpoint file that is read:
// far above any real network (the format's own caps allow more, but a
// model of that size is a mistake, not a network).
const MaxModelBytes = 1 << 30

var modelLimit = fileio.Limit{Bytes: MaxModelBytes, What: "model files"}

// WriteFile writes a model or checkpoint to path through internal/fileio:
// atomically (temporary file, sync, rename) for a regular file, keeping
// its mode, so a crash or Ctrl-C never leaves a half-written model;
// symlinks are followed, devices and FIFOs are written straight into.
func WriteFile(path string, b []byte) error { return fileio.WriteFile(path, b) }

// readModelFile reads a model or checkpoint file of at most MaxModelBytes;
// a file that does not start with the magic is refused before the rest is
// read (so /dev/zero fails at once).
func readModelFile(path string) ([]byte, error) {
	r, err := fileio.Open(path, modelLimit)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	head := make([]byte, len(fileMagic))
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	if n == len(head) && string(head) != fileMagic {
		return nil, fmt.Errorf("%s: %w", path, &corruptError{0, "bad magic (not an aerie model file)"})
	}
	b := bytes.NewBuffer(head[:n])
	if _, err := b.ReadFrom(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadModel reads a model file (or the current model of a checkpoint).
func ReadModel(path string) (*Model, Meta, error) {
	b, err := readModelFile(path)
	if err != nil {
		return nil, Meta{}, err
	}
	m, meta, err := UnmarshalModel(b)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, meta, nil
}

// ReadCheckpoint reads a checkpoint file and restores its trainer.
func ReadCheckpoint(path string) (*Trainer, Meta, error) {
	b, err := readModelFile(path)
	if err != nil {
		return nil, Meta{}, err
	}
	tr, meta, err := UnmarshalCheckpoint(b)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("%s: %w", path, err)
	}
	return tr, meta, nil
}
