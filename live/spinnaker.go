package live

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/internal/fileio"
)

// SpiNNakerConfig turns on SpiNNaker live mode: the listen socket is a
// board's SCP/SDP port (17893 by convention) and the server speaks to an
// unmodified sPyNNaker/SpiNNFrontEndCommon LiveEventConnection (see
// doc.go for the sequence).
type SpiNNakerConfig struct {
	// Notify is the client's notification address (DefaultNotify).
	Notify string
	// Database is the path announced in the DATABASE notification: the
	// SQLite file of the label→key database the client reads, which the
	// caller writes with WriteDatabase before Run (see DatabaseTables).
	Database string
	// AckTimeout is how long to wait for the client's acknowledgement
	// before starting anyway (default 10 s, as SpiNNFrontEndCommon).
	AckTimeout time.Duration
	// Resend is the interval at which the notification is repeated
	// while no acknowledgement came (default 1 s).
	Resend time.Duration
}

// DefaultNotify is where sPyNNaker's live clients listen for the
// notification protocol.
const DefaultNotify = "127.0.0.1:19999"

// SpiNNakerSummary is the live mode's part of the Summary.
type SpiNNakerSummary struct {
	Notify       string     `json:"notify"`
	Database     string     `json:"database"`
	Acknowledged bool       `json:"acknowledged"`
	Started      bool       `json:"started"`
	SCPRequests  uint64     `json:"scp_requests"`
	IPTags       []string   `json:"ip_tags"` // "tag → host:port"
	Injectors    []Injector `json:"injectors"`
}

// Injector is where live injection for an input port (population label)
// goes: the SDP destination chip (X, Y) and core P.
type Injector struct {
	Label string `json:"label"`
	Port  int    `json:"port"`
	X     uint8  `json:"x"`
	Y     uint8  `json:"y"`
	P     uint8  `json:"p"`
}

// injectorOf places input port i on chip (i/16, 0), core 1 + i%16 (core 0
// is the monitor, as on a board).
func injectorOf(i int) (x, y, p uint8) { return uint8(i / 16), 0, uint8(1 + i%16) }

type spinnaker struct {
	s      *Server
	cfg    SpiNNakerConfig
	notify netip.AddrPort
	nconn  *net.UDPConn

	mu      sync.Mutex
	tags    map[uint8]netip.AddrPort
	acked   bool
	started bool
	scp     uint64

	corePort map[[3]uint8]int
}

func newSpiNNaker(s *Server, cfg *SpiNNakerConfig) (*spinnaker, error) {
	c := *cfg
	if c.Notify == "" {
		c.Notify = DefaultNotify
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	if c.Resend <= 0 {
		c.Resend = time.Second
	}
	notify, err := resolveUDP(c.Notify)
	if err != nil {
		return nil, fmt.Errorf("live: --notify %q: %w", c.Notify, err)
	}
	if len(s.prog.Inputs) > 16*256 {
		return nil, fmt.Errorf("live: %d input ports: SpiNNaker live mode places at most %d", len(s.prog.Inputs), 16*256)
	}
	if len(c.Database) > aer.MaxDatabasePath {
		return nil, fmt.Errorf("live: database path longer than %d bytes", aer.MaxDatabasePath)
	}
	ip := s.local.Addr()
	if ip.IsUnspecified() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	nconn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, fmt.Errorf("live: notification socket: %w", err)
	}
	sp := &spinnaker{s: s, cfg: c, notify: notify, nconn: nconn, tags: map[uint8]netip.AddrPort{}, corePort: map[[3]uint8]int{}}
	for i := range s.prog.Inputs {
		x, y, p := injectorOf(i)
		sp.corePort[[3]uint8{x, y, p}] = i
	}
	return sp, nil
}

// handshake runs the notification protocol: DATABASE to the client
// (repeated until acknowledged or AckTimeout), then START_RESUME to the
// client and to the tick loop.
func (sp *spinnaker) handshake(ctx context.Context) {
	s := sp.s
	msg := aer.AppendDatabaseNotification(nil, sp.cfg.Database)
	dst := net.UDPAddrFromAddrPort(sp.notify)
	deadline := time.Now().Add(sp.cfg.AckTimeout)
	buf := make([]byte, 512)
	for !sp.isAcked() && time.Now().Before(deadline) && ctx.Err() == nil {
		if _, err := sp.nconn.WriteTo(msg, dst); err != nil {
			s.log.Warn("notification", "err", err)
		}
		wait := min(sp.cfg.Resend, time.Until(deadline))
		sp.nconn.SetReadDeadline(time.Now().Add(wait))
		for {
			n, from, err := sp.nconn.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			if p, err := aer.ParseDatabaseNotification(buf[:n]); err == nil && p == "" {
				sp.mu.Lock()
				sp.acked = true
				sp.mu.Unlock()
				s.log.Info("database acknowledged", "from", from.String())
				break
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	if !sp.isAcked() {
		s.log.Warn("no acknowledgement of the database notification; starting anyway", "notify", sp.notify.String())
	}
	start := aer.AppendEIEIOCommand(nil, aer.EIEIOCommand{ID: aer.EIEIOCommandStartResume})
	sp.nconn.WriteTo(start, dst)
	sp.mu.Lock()
	sp.started = true
	sp.mu.Unlock()
	select {
	case s.ctl <- ctlStart:
	case <-ctx.Done():
	}
}

func (sp *spinnaker) isAcked() bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.acked
}

// stop tells the client the simulation stopped (STOP_PAUSE) and closes the
// notification socket.
func (sp *spinnaker) stop() {
	sp.mu.Lock()
	started := sp.started
	sp.mu.Unlock()
	if started {
		stop := aer.AppendEIEIOCommand(nil, aer.EIEIOCommand{ID: aer.EIEIOCommandStopPause})
		sp.nconn.WriteTo(stop, net.UDPAddrFromAddrPort(sp.notify))
	}
	sp.nconn.Close()
}

// handle takes one datagram to the board port: SDP port 0 is SCP, port 1
// EIEIO data for an injector core. It runs on the intake goroutine.
func (sp *spinnaker) handle(b []byte, from netip.AddrPort) {
	s := sp.s
	h, payload, err := aer.DecodeSDP(b)
	if err != nil {
		s.c.malformed.Add(1)
		return
	}
	switch h.DestPort {
	case aer.SDPPortSCP:
		sp.handleSCP(b, from)
	case aer.SDPPortEIEIO:
		port, ok := sp.corePort[[3]uint8{h.DestX, h.DestY, h.DestCPU}]
		if !ok {
			port = -1 // full keys still name their port
		}
		s.handleData(payload, from, port)
	default:
		s.c.malformed.Add(1)
	}
}

func (sp *spinnaker) handleSCP(b []byte, from netip.AddrPort) {
	s := sp.s
	req, err := aer.DecodeSCPRequest(b)
	if err != nil {
		s.c.malformed.Add(1)
		return
	}
	s.c.commands.Add(1)
	sp.mu.Lock()
	sp.scp++
	sp.mu.Unlock()
	rc := aer.SCPResultOK
	var arg uint32
	if req.Cmd != aer.SCPCommandIPTag {
		rc = aer.SCPResultArg
	} else if tag, err := aer.ParseIPTag(req); err != nil {
		rc = aer.SCPResultArg
	} else {
		arg = uint32(tag.Tag)
		if tag.Subcommand == aer.IPTagSet {
			target := from
			if !tag.UseSender {
				target = netip.AddrPortFrom(tag.Addr, tag.Port)
			}
			switch {
			case !target.Addr().IsValid() || target.Port() == 0 || !tag.StripSDP:
				// aerie's output is raw EIEIO; an SDP-wrapped tag is not offered
				rc = aer.SCPResultArg
			case target.Addr().Unmap() != from.Addr().Unmap():
				// output goes only to the requester's own host: an IP-tag
				// request must not turn the server into a reflector
				rc = aer.SCPResultArg
			default:
				sp.mu.Lock()
				sp.tags[tag.Tag] = target
				sp.mu.Unlock()
				s.out.add(target)
			}
		}
	}
	reply := aer.AppendSCPReply(make([]byte, 0, 32), req, rc, arg)
	s.conn.WriteToUDPAddrPort(reply, from)
	if s.pcap != nil {
		s.pcap.write(s.local, from, reply)
	}
}

func (sp *spinnaker) summary() *SpiNNakerSummary {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sum := &SpiNNakerSummary{Notify: sp.notify.String(), Database: sp.cfg.Database, Acknowledged: sp.acked,
		Started: sp.started, SCPRequests: sp.scp, IPTags: []string{}, Injectors: sp.s.Injectors()}
	for tag, a := range sp.tags {
		sum.IPTags = append(sum.IPTags, fmt.Sprintf("%d → %s", tag, a))
	}
	sort.Strings(sum.IPTags)
	return sum
}

// Injectors lists where SpiNNaker live injection for each input port goes.
func (s *Server) Injectors() []Injector {
	out := []Injector{}
	for i, in := range s.prog.Inputs {
		x, y, p := injectorOf(i)
		out = append(out, Injector{Label: in.Name, Port: i, X: x, Y: y, P: p})
	}
	return out
}

// DatabaseTables is the label→key database a SpiNNFrontEndCommon live
// client reads: the tables and columns its DatabaseReader queries
// (shared/reference/live-io.md), filled from the image's ports.
// sPyNNaker writes label_event_atom_view and app_output_tag_view as views
// over its own tables; here they are tables of the same names and
// columns, which the client's SELECTs cannot tell apart. DatabaseFile
// writes them as an SQLite file, DatabaseSQL as an SQL script.
func (s *Server) DatabaseTables() []SQLiteTable {
	board := s.local.Addr().String()
	if s.local.Addr().IsUnspecified() {
		board = "127.0.0.1"
	}
	var runtime any // NULL: run forever
	if s.cfg.Duration > 0 {
		runtime = float64(s.cfg.Duration) / float64(time.Millisecond)
	}
	config := SQLiteTable{Name: "configuration_parameters", Create: "CREATE TABLE configuration_parameters(parameter_id TEXT, value REAL)",
		Rows: [][]any{{"runtime", runtime}, {"machine_time_step", s.cfg.TickUS}}}
	proxy := SQLiteTable{Name: "proxy_configuration", Create: "CREATE TABLE proxy_configuration(kind TEXT, name TEXT, value TEXT)"}
	atoms := SQLiteTable{Name: "label_event_atom_view", Create: "CREATE TABLE label_event_atom_view(atom INTEGER, event INTEGER, label TEXT)"}
	for i, in := range s.prog.Inputs {
		for c := range in.Channels {
			atoms.Rows = append(atoms.Rows, []any{int64(c), int64(s.keys.InputKey(uint16(i), uint32(c))), in.Name})
		}
	}
	for j, out := range s.prog.Outputs {
		for c := range out.Neurons {
			atoms.Rows = append(atoms.Rows, []any{int64(c), int64(s.keys.OutputKey(uint16(j), uint32(c))), out.Name})
		}
	}
	places := SQLiteTable{Name: "application_vertex_placements",
		Create: "CREATE TABLE application_vertex_placements(x INTEGER, y INTEGER, p INTEGER, vertex_label TEXT)"}
	chips := map[[2]uint8]bool{{0, 0}: true}
	for _, inj := range s.Injectors() {
		places.Rows = append(places.Rows, []any{int64(inj.X), int64(inj.Y), int64(inj.P), inj.Label})
		chips[[2]uint8{inj.X, inj.Y}] = true
	}
	eth := SQLiteTable{Name: "chip_eth_info",
		Create: "CREATE TABLE chip_eth_info(x INTEGER, y INTEGER, eth_x INTEGER, eth_y INTEGER, eth_ip_address TEXT)"}
	var keys [][2]uint8
	for c := range chips {
		keys = append(keys, c)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	for _, c := range keys {
		eth.Rows = append(eth.Rows, []any{int64(c[0]), int64(c[1]), int64(0), int64(0), board})
	}
	tags := SQLiteTable{Name: "app_output_tag_view",
		Create: "CREATE TABLE app_output_tag_view(ip_address TEXT, port INTEGER, strip_sdp INTEGER, board_address TEXT, tag INTEGER, " +
			"pre_vertex_label TEXT, post_vertex_label TEXT, chip_x INTEGER, chip_y INTEGER)"}
	notifyIP := "127.0.0.1"
	if s.spin != nil {
		notifyIP = s.spin.notify.Addr().String()
	}
	for _, out := range s.prog.Outputs {
		tags.Rows = append(tags.Rows, []any{notifyIP, int64(0), int64(1), board, int64(OutputTag), out.Name, "LiveSpikeReceiver", int64(0), int64(0)})
	}
	return []SQLiteTable{config, proxy, atoms, places, eth, tags}
}

// DatabaseFile is DatabaseTables as an SQLite 3 database file, the file
// the DATABASE notification names (see WriteDatabase).
func (s *Server) DatabaseFile() ([]byte, error) { return WriteSQLite(s.DatabaseTables()) }

// WriteDatabase writes DatabaseFile to path (replacing it whole, through
// internal/fileio), for SpiNNakerConfig.Database to name.
func (s *Server) WriteDatabase(path string) error {
	b, err := s.DatabaseFile()
	if err != nil {
		return err
	}
	return fileio.WriteFile(path, b)
}

// DatabaseSQL is DatabaseTables as an SQL script (SQLite dialect), for
// reading or for "sqlite3 db.sqlite3 < db.sql"; DatabaseFile is the same
// database as the file itself.
func (s *Server) DatabaseSQL() string {
	var b strings.Builder
	b.WriteString("-- aerie serve --spinnaker-live: the label→key database of a SpiNNaker live client\nBEGIN;\n")
	for _, t := range s.DatabaseTables() {
		b.WriteString(t.Create + ";\n")
		for _, row := range t.Rows {
			fmt.Fprintf(&b, "INSERT INTO %s VALUES(", t.Name)
			for i, v := range row {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(sqlLiteral(v))
			}
			b.WriteString(");\n")
		}
	}
	b.WriteString("COMMIT;\n")
	return b.String()
}

// sqlLiteral is v as an SQL literal.
func sqlLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		switch {
		case math.IsInf(x, 1):
			return "9e999"
		case math.IsInf(x, -1):
			return "-9e999"
		case math.IsNaN(x):
			return "NULL"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'"
	}
	return "NULL"
}

// OutputTag is the IP tag of every output port in SpiNNaker live mode:
// one live packet gatherer carries all of them, told apart by key.
const OutputTag = 1
