package aer

import (
	"bytes"
	"unicode/utf8"
)

// The SpiNNaker notification protocol (SpiNNFrontEndCommon's
// notification_protocol.py) on EIEIO command packets: the toolchain sends
// DATABASE with the path of the label→key database to each live client's
// port 19999; the client reads it, sets up, and answers with a bare
// DATABASE command (01 40); later the toolchain sends START_RESUME (0B 40)
// and, at the end, STOP_PAUSE (0A 40).
//
//	 0        2
//	+--------+---------------------------------+
//	| 01 40  | UTF-8 path of the database      |   notification (path may be empty: the ack)
//	+--------+---------------------------------+

// MaxDatabasePath bounds the path of a database notification (the payload
// of an EIEIO command in SpiNNFrontEndCommon's sender fits one datagram).
const MaxDatabasePath = 4096

// AppendDatabaseNotification appends a DATABASE command carrying path (an
// empty path gives the acknowledgement, 01 40).
func AppendDatabaseNotification(dst []byte, path string) []byte {
	return AppendEIEIOCommand(dst, EIEIOCommand{ID: EIEIOCommandDatabase, Data: []byte(path)})
}

// ParseDatabaseNotification decodes a DATABASE command and returns its
// path ("" for an acknowledgement). The path must be valid UTF-8 without
// NUL bytes and at most MaxDatabasePath bytes.
func ParseDatabaseNotification(b []byte) (string, error) {
	c, err := DecodeEIEIOCommand(b)
	if err != nil {
		return "", err
	}
	if c.ID != EIEIOCommandDatabase {
		return "", corrupt("eieio", 0, "command %d is not DATABASE (%d)", c.ID, EIEIOCommandDatabase)
	}
	if len(c.Data) > MaxDatabasePath {
		return "", corrupt("eieio", 2, "database path of %d bytes exceeds %d", len(c.Data), MaxDatabasePath)
	}
	if i := bytes.IndexByte(c.Data, 0); i >= 0 {
		return "", corrupt("eieio", int64(2+i), "NUL byte in database path")
	}
	if !utf8.Valid(c.Data) {
		return "", corrupt("eieio", 2, "database path is not UTF-8")
	}
	return string(c.Data), nil
}

// EIEIOCommandName names the command ids of SpiNNFrontEndCommon's
// EIEIO_COMMAND_IDS (buffered I/O ids 2–9 and 12 included), or "" if
// unknown.
func EIEIOCommandName(id uint16) string {
	switch id {
	case 1:
		return "DATABASE"
	case 2:
		return "EVENT_PADDING"
	case 3:
		return "EVENT_STOP"
	case 4:
		return "STOP_SENDING_REQUESTS"
	case 5:
		return "START_SENDING_REQUESTS"
	case 6:
		return "SPINNAKER_REQUEST_BUFFERS"
	case 7:
		return "HOST_SEND_SEQUENCED_DATA"
	case 8:
		return "SPINNAKER_REQUEST_READ_DATA"
	case 9:
		return "HOST_DATA_READ"
	case 10:
		return "STOP_PAUSE_NOTIFICATION"
	case 11:
		return "START_RESUME_NOTIFICATION"
	case 12:
		return "HOST_DATA_READ_ACK"
	}
	return ""
}
