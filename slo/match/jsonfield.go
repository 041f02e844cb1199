package match

import (
	"errors"
	"unsafe"

	"github.com/obsd-dev/obsd/internal/jsonscan"
)

// ErrNotJSONObject is returned by JSONField for text that is not a JSON
// object (as far as it was read).
var ErrNotJSONObject = errors.New("body is not a JSON object")

// JSONField finds the value at path (object keys, outermost first) in the
// JSON object text data with the one JSON scanner (internal/jsonscan,
// Strict), without building the document. The value comes back as text:
// a string unescaped, a number, true or false as written, null as "", an
// object or array as its raw JSON. found is false when the path is absent
// (or crosses a non-object; of duplicate keys the first counts). Escaped
// strings are decoded into buf, which is returned for reuse; the result
// may point into data or buf and is valid until buf is reused. Reading
// stops after the value found and the delimiter after it: data further on
// is not checked. It never panics and does not allocate unless buf must
// grow.
func JSONField(data string, path []string, buf []byte) (val string, found bool, nbuf []byte, err error) {
	if len(path) == 0 {
		return "", false, buf, ErrNotJSONObject
	}
	v, found, err := jsonscan.Find(data, path, jsonscan.Strict)
	switch {
	case err == jsonscan.ErrNotObject:
		return "", false, buf, ErrNotJSONObject
	case err != nil:
		return "", false, buf, errors.Join(ErrNotJSONObject, err)
	case !found || v.Kind == jsonscan.Null:
		return "", found, buf, nil
	case v.Plain():
		return v.Raw, true, buf, nil
	}
	b, err := v.AppendText(buf[:0])
	if err != nil {
		return "", false, b, errors.Join(ErrNotJSONObject, err)
	}
	if len(b) == 0 {
		return "", true, b, nil
	}
	return unsafe.String(&b[0], len(b)), true, b, nil
}
