package wal

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// The on-disk format. A segment file is the 8-byte segmentMagic followed by
// records. A record is
//
//	bodyLen  uint32 LE   length of body
//	bodyCRC  uint32 LE   CRC32C (Castagnoli) of body
//	headCRC  uint32 LE   CRC32C of the 8 bytes above
//	body:
//	  flags   byte       low nibble: kind; flagFirst, flagMore
//	  client  uvarint    the client's id (for kindClient: the id defined)
//	  keyLen  uvarint
//	  key     keyLen bytes (for kindClient: the client's name)
//	  value   the rest of the body (kindSet only)
//
// The header has its own checksum so that a damaged length is detected
// before it is trusted: a record whose body fails its checksum is skipped
// by its (trusted) length; a damaged header makes the reader scan forward
// for the next record whose header and body both check out.
//
// The records of one Batch are written contiguously: the first carries
// flagFirst, every one but the last carries flagMore. A reader applies a
// batch only once it has read all of it, intact, so a Batch is replayed
// whole or not at all.
const (
	segmentMagic   = "obsdwal1"
	headerSize     = 12
	segmentHdrSize = len(segmentMagic)

	kindSet    byte = 1
	kindDelete byte = 2
	kindClient byte = 3
	kindMask   byte = 0x0f
	flagFirst  byte = 0x40
	flagMore   byte = 0x80

	// maxBodyLen bounds one record; a larger length in a header that checks
	// out can only come from a bug, and is treated as damage.
	maxBodyLen = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errMalformed is a record whose checksums pass but whose body does not
// parse (only a bug or a crafted file can give one).
var errMalformed = errors.New("malformed record body")

// recordSize is the encoded size of a record.
func recordSize(client uint32, key string, valueLen int) int {
	return headerSize + 1 + uvarintLen(uint64(client)) + uvarintLen(uint64(len(key))) + len(key) + valueLen
}

// appendRecord appends one encoded record to buf and returns the grown
// buffer and the offset of the value within the record.
func appendRecord(buf []byte, flags byte, client uint32, key string, value []byte) ([]byte, int) {
	size := recordSize(client, key, len(value))
	start := len(buf)
	if cap(buf)-start < size {
		grown := make([]byte, start, max(2*cap(buf), start+size, 4096))
		copy(grown, buf)
		buf = grown
	}
	buf = buf[:start+size]
	rec := buf[start:]
	body := rec[headerSize:]
	body[0] = flags
	n := 1
	n += binary.PutUvarint(body[n:], uint64(client))
	n += binary.PutUvarint(body[n:], uint64(len(key)))
	n += copy(body[n:], key)
	valueOff := headerSize + n
	copy(body[n:], value)
	binary.LittleEndian.PutUint32(rec[0:], uint32(len(body)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(body, castagnoli))
	binary.LittleEndian.PutUint32(rec[8:], crc32.Checksum(rec[:8], castagnoli))
	return buf, valueOff
}

// headerStatus is what a record header at some offset says.
type headerStatus int

const (
	headerOK      headerStatus = iota
	headerShort                // fewer than headerSize bytes left
	headerBad                  // the header checksum fails or the length is absurd
	headerTorn                 // the header checks out but the body runs past the end
	headerBodyBad              // the header checks out but the body checksum fails
)

// checkRecord looks at the record at data[off:] and returns its status and
// body length (valid for headerOK, headerTorn and headerBodyBad).
func checkRecord(data []byte, off int) (headerStatus, int) {
	if len(data)-off < headerSize {
		return headerShort, 0
	}
	h := data[off : off+headerSize]
	if crc32.Checksum(h[:8], castagnoli) != binary.LittleEndian.Uint32(h[8:]) {
		return headerBad, 0
	}
	n := int(binary.LittleEndian.Uint32(h[0:]))
	if n < 3 || n > maxBodyLen {
		return headerBad, 0
	}
	if len(data)-off-headerSize < n {
		return headerTorn, n
	}
	if crc32.Checksum(data[off+headerSize:off+headerSize+n], castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
		return headerBodyBad, n
	}
	return headerOK, n
}

// record is one decoded record; key and value alias the buffer it was read
// from.
type record struct {
	flags    byte
	client   uint32
	key      []byte
	value    []byte
	valueOff int // offset of value from the record's start
}

func (r *record) kind() byte { return r.flags & kindMask }

// parseBody decodes a record body that passed its checksums.
func parseBody(body []byte) (record, error) {
	var r record
	if len(body) < 3 {
		return r, errMalformed
	}
	r.flags = body[0]
	n := 1
	c, k := binary.Uvarint(body[n:])
	if k <= 0 || c > 1<<32-1 {
		return r, errMalformed
	}
	n += k
	kl, k := binary.Uvarint(body[n:])
	if k <= 0 || kl > uint64(len(body)-n-k) {
		return r, errMalformed
	}
	n += k
	r.client = uint32(c)
	r.key = body[n : n+int(kl)]
	n += int(kl)
	r.value = body[n:]
	r.valueOff = headerSize + n
	switch r.kind() {
	case kindSet:
	case kindDelete, kindClient:
		if len(r.value) != 0 {
			return r, errMalformed
		}
	default:
		return r, errMalformed
	}
	return r, nil
}

// resync returns the offset of the first record after off whose header and
// body both check out, or -1 when there is none.
func resync(data []byte, off int) int {
	for i := off + 1; i+headerSize <= len(data); i++ {
		if st, _ := checkRecord(data, i); st == headerOK {
			return i
		}
	}
	return -1
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
