package jsonscan

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// collect scans data and returns what each key took, as "i=kind:raw",
// sorted, with the error. Every key takes the first field it is offered.
func collect(f *Fields, data string, mode Mode) ([]string, error) {
	var got []string
	err := f.Scan(data, mode, func(keys uint64, v Value) uint64 {
		for i := 0; i < f.Len(); i++ {
			if keys&(1<<uint(i)) != 0 {
				got = append(got, fmt.Sprintf("%d=%d:%s", i, v.Kind, v.Raw))
			}
		}
		return keys
	})
	sort.Strings(got)
	return got, err
}

func kv(s ...string) []string { return s }

func TestScanStrict(t *testing.T) {
	f := NewFields([]Key{
		{Path: []string{"status"}},
		{Path: []string{"req", "path"}},
		{Path: []string{"req"}},
		{Name: "trace.id"},
	}, 0)
	s, n, o := fmt.Sprint(String), fmt.Sprint(Number), fmt.Sprint(Object)
	tests := []struct {
		name, data string
		want       []string
		err        error
	}{
		{"one pass answers every key, an object both as a value and as a path",
			`{"req":{"path":"/a","m":"GET"},"status":503,"trace":{"id":"t"}}`,
			kv("0="+n+":503", "1="+s+":/a", "2="+o+`:{"path":"/a","m":"GET"}`, "3="+s+":t"), nil},
		{"a dotted name matches a flat field holding its dots", `{"trace.id":"flat"}`, kv("3=" + s + ":flat"), nil},
		{"a path matches no flat field holding its dots", `{"req.path":"/a"}`, nil, nil},
		{"the first of duplicate fields wins", `{"status":1,"status":2}`, kv("0=" + n + ":1"), nil},
		{"only the first object on a path is searched", `{"req":{"x":1},"req":{"path":"/b"}}`, kv("2=" + o + `:{"x":1}`), nil},
		{"a path through a non-object goes on to the next field of that name", `{"req":"x","req":{"path":"/b"}}`,
			kv("1="+s+":/b", "2="+s+":x"), nil},
		{"a dotted name goes on after an object without the field", `{"trace":{"x":1},"trace":{"id":"y"}}`, kv("3=" + s + ":y"), nil},
		{"escaped key names are decoded before they are compared", `{"st\u0061tus":7}`, kv("0=" + n + ":7"), nil},
		{"fields in arrays are never reported", `{"a":[{"status":1}],"status":2}`, kv("0=" + n + ":2"), nil},
		{"an absent key after every kind of value", `{"s":"x","n":-1.5e3,"b":false,"z":null,"o":{"k":[{},[]]},"a":[1,"2"]}`, nil, nil},
		{"a value counts once the delimiter after it is read", `{"status":01}`, nil, ErrSyntax},
		{"a syntax error in a value no key wants is still an error", `{"x":tru,"status":1}`, nil, ErrSyntax},
		{"a control character in a string is an error", "{\"x\":\"a\nb\",\"status\":1}", nil, ErrSyntax},
		{"a truncated object is an error, keeping what was reported", `{"status":1,"req":{"pa`, kv("0=" + n + ":1"), ErrSyntax},
		{"not an object", `[1]`, nil, ErrNotObject},
		{"an empty text", ``, nil, ErrNotObject},
		{"deep nesting is refused", `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, nil, ErrTooDeep},
		{"nesting up to the limit is read", `{"x":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `,"status":1}`,
			kv("0=" + n + ":1"), nil},
		{"a value at the limit is refused", `{"x":` + strings.Repeat("[", MaxDepth-1) + "1" + strings.Repeat("]", MaxDepth-1) + `,"status":1}`,
			nil, ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(f, tt.data, Strict)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScanStopsWhenEveryKeyIsDone(t *testing.T) {
	f := NewFields([]Key{{Path: []string{"a"}}, {Path: []string{"b", "c"}}}, 0)
	for name, data := range map[string]string{
		"after the last value and its delimiter": `{"a":1,"b":{"c":2},garbage`,
		"when the first object on a path ends":   `{"a":1,"b":{"x":2} garbage`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := collect(f, data, Strict); err != nil {
				t.Errorf("error %v: the text after the last key must not be read", err)
			}
		})
	}
}

func TestScanLenient(t *testing.T) {
	f := NewFields([]Key{
		{Name: "trace_id"},
		{Name: "traceparent", CaseInsensitive: true},
		{Name: "dd.trace_id"},
		{Name: "a.b.c.d.e"},
	}, 4)
	s, n, b := fmt.Sprint(String), fmt.Sprint(Number), fmt.Sprint(Bare)
	tests := []struct {
		name, data string
		want       []string
		err        error
	}{
		{"a bare word before the field is passed over", `{"latency":NaN,"trace_id":"abc"}`, kv("0=" + s + ":abc"), nil},
		{"a bare word is a value", `{"trace_id":abc}`, kv("0=" + b + ":abc"), nil},
		{"containers are passed over unchecked", `{"a":[1 2 {]},"trace_id":"x"}`, kv("0=" + s + ":x"), nil},
		{"a value is reported before its delimiter", `{"trace_id":"abc"`, kv("0=" + s + ":abc"), ErrSyntax},
		{"strings are raw: escapes stay as written", `{"trace_id":"a\"b"}`, kv("0=" + s + `:a\"b`), nil},
		{"a case-insensitive key matches any case", `{"TraceParent":"00-x"}`, kv("1=" + s + ":00-x"), nil},
		{"a nested number is its literal", `{"dd":{"trace_id":12345}}`, kv("2=" + n + ":12345"), nil},
		{"fields below the level limit are not searched", `{"a":{"b":{"c":{"d":{"e":1}}}}}`, nil, nil},
		{"a key that is not a string stops the scan", `{trace_id:"x"}`, nil, ErrSyntax},
		{"an unterminated string stops the scan, keeping what was found", `{"trace_id":"abc","x":"de`, kv("0=" + s + ":abc"), ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(f, tt.data, Lenient)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFoundDecidesWhatATakes(t *testing.T) {
	// The same name twice, case-sensitive and not: the callback sees both
	// keys on "trace_id" and takes only the first, so the second stays
	// open for a later field only it names.
	f := NewFields([]Key{{Name: "trace_id"}, {Name: "trace_id", CaseInsensitive: true}}, 0)
	var seen []string
	err := f.Scan(`{"trace_id":"a","TRACE_ID":"b","trace_id":"c"}`, Strict, func(keys uint64, v Value) uint64 {
		seen = append(seen, fmt.Sprintf("%b=%s", keys, v.Raw))
		return keys & -keys // the lowest key only
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seen, " "); got != "11=a 10=b" {
		t.Errorf("reported %q, want %q", got, "11=a 10=b")
	}
}

// Below an object, a field still shows every key that names it, those
// already done included, as at the top level.
func TestFoundSeesDoneKeysBelowAnObject(t *testing.T) {
	f := NewFields([]Key{{Name: "trace.id"}, {Name: "TRACE.id", CaseInsensitive: true}}, 0)
	var seen []string
	err := f.Scan(`{"trace.id":"a","trace":{"id":"b"}}`, Lenient, func(keys uint64, v Value) uint64 {
		seen = append(seen, fmt.Sprintf("%b=%s", keys, v.Raw))
		return keys & -keys
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seen, " "); got != "11=a 11=b" {
		t.Errorf("reported %q, want %q", got, "11=a 11=b")
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name, data, path, want string
		found                  bool
		err                    error
	}{
		{"a top-level number", `{"status":503,"path":"/a"}`, "status", "503", true, nil},
		{"a nested field", `{"req":{"method":"GET","h":{"x":true}}}`, "req.h.x", "true", true, nil},
		{"escapes are decoded", `{"m":"a\"b\\c\u00e9\ud83d\ude00\/"}`, "m", "a\"b\\cé😀/", true, nil},
		{"a lone surrogate becomes U+FFFD", `{"m":"\ud800x"}`, "m", "\uFFFDx", true, nil},
		{"an object comes back as raw JSON", `{"a":{"b": [1, 2]}}`, "a", `{"b": [1, 2]}`, true, nil},
		{"an invalid escape in the value is an error", `{"a":"\x"}`, "a", "", false, ErrSyntax},
		{"an invalid escape in a value no key wants is an error", `{"b":"\x","a":1}`, "a", "", false, ErrSyntax},
		{"an invalid escape in a name inside an unread object is not checked", `{"b":{"\x":1},"a":1}`, "a", "1", true, nil},
		{"an invalid escape in a key is an error", `{"\x":1,"a":2}`, "a", "", false, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, found, err := Find(tt.data, strings.Split(tt.path, "."), Strict)
			if err == nil && found {
				var b []byte
				b, err = v.AppendText(nil)
				if err == nil && string(b) != tt.want {
					t.Errorf("got %q, want %q", b, tt.want)
				}
			}
			if found != tt.found || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("found %v, error %v; want %v, %v", found, err, tt.found, tt.err)
			}
		})
	}
}

func TestAppendTextRefusesABrokenEscape(t *testing.T) {
	v, found, err := Find(`{"a":"x\qy"}`, []string{"a"}, Lenient) // Lenient does not check escapes
	if err != nil || !found {
		t.Fatal(found, err)
	}
	if _, err := v.AppendText(nil); !errors.Is(err, ErrSyntax) {
		t.Errorf("AppendText error %v, want ErrSyntax", err)
	}
}

func TestPlain(t *testing.T) {
	for raw, want := range map[string]bool{`abc`: true, `é`: true, `a\"b`: false, "\xff": false} {
		v, _, err := Find(`{"a":"`+raw+`"}`, []string{"a"}, Strict)
		if err != nil {
			t.Fatal(err)
		}
		if v.Plain() != want {
			t.Errorf("Plain(%q) = %v, want %v", raw, v.Plain(), want)
		}
	}
}

func TestStepFiltersTopLevelNames(t *testing.T) {
	long := strings.Repeat("k", 70)
	keys := []Key{
		{Name: "traceparent", CaseInsensitive: true},
		{Name: "trace_id"},
		{Name: "X-B3-TraceId", CaseInsensitive: true},
		{Name: "trace.id"},
		{Path: []string{"req", "path"}},
	}
	tests := []struct {
		name string
		keys []Key
		path []string
		want uint64 // the keys the last element hits
		more bool   // whether some key goes on below it
	}{
		{"an exact name matches", keys, []string{"trace_id"}, 1 << 1, false},
		{"a case-insensitive name matches in upper case", keys, []string{"TRACEPARENT"}, 1 << 0, false},
		{"a case-insensitive header matches in lower case", keys, []string{"x-b3-traceid"}, 1 << 2, false},
		{"a case-sensitive name does not match another case", keys, []string{"TRACE_ID"}, 0, false},
		{"a field of another length is rejected", keys, []string{"method"}, 0, false},
		{"a field of the same length and first byte is compared", keys, []string{"trace_ix"}, 0, false},
		{"a dotted name matches a flat field", keys, []string{"trace.id"}, 1 << 3, false},
		{"a dotted name's prefix goes on below", keys, []string{"trace"}, 0, true},
		{"a dotted name matches nested objects", keys, []string{"trace", "id"}, 1 << 3, false},
		{"a path's first element goes on below", keys, []string{"req"}, 0, true},
		{"a path matches level by level", keys, []string{"req", "path"}, 1 << 4, false},
		{"an empty field matches nothing", keys, []string{""}, 0, false},
		{"a name longer than the filter still matches", []Key{{Name: long}}, []string{long}, 1, false},
		{"a long name does not match a short field", []Key{{Name: long}}, []string{"k"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFields(tt.keys, 0)
			c := f.Root()
			var hit uint64
			for _, s := range tt.path {
				wants := c.Wants(s)
				if c, hit = f.Step(c, s); !wants && (hit != 0 || c.Alive()) {
					t.Fatalf("Wants(%q) is false but Step found %b (goes on: %v)", s, hit, c.Alive())
				}
			}
			if hit != tt.want || c.Alive() != tt.more {
				t.Errorf("Step(%q) = %b (goes on: %v), want %b (%v)", tt.path, hit, c.Alive(), tt.want, tt.more)
			}
		})
	}
}

func TestNewFieldsBounds(t *testing.T) {
	keys := make([]Key, MaxKeys+5)
	for i := range keys {
		keys[i] = Key{Name: "k"}
	}
	if n := NewFields(keys, 0).Len(); n != MaxKeys {
		t.Errorf("Len = %d, want %d", n, MaxKeys)
	}
	path := []string{"a"}
	f := NewFields([]Key{{Path: path}}, 0)
	path[0] = "b"
	if _, hit := f.Step(f.Root(), "a"); hit != 1 {
		t.Error("NewFields must copy the paths it is given")
	}
}

func TestScanDoesNotAllocate(t *testing.T) {
	corr := NewFields([]Key{{Name: "trace_id"}, {Name: "trace.span"}, {Name: "traceparent", CaseInsensitive: true}}, 4)
	body := `{"level":"info","msg":"request \"served\"","trace":{"trace":"aa","span":"bb"},"n":[1,2,{"x":null}],"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`
	path := []string{"trace", "span"}
	buf := make([]byte, 0, 64)
	var found int
	take := func(keys uint64, v Value) uint64 { found++; return keys }
	allocs := testing.AllocsPerRun(100, func() {
		_ = corr.Scan(body, Lenient, take)
		_ = corr.Scan(body, Strict, take)
		_ = corr.Scan(`{"tr\u0061ceparent":"00-x"}`, Strict, take)
		v, _, _ := Find(body, path, Strict)
		buf, _ = v.AppendText(buf[:0])
		v, _, _ = Find(body, []string{"msg"}, Strict)
		buf, _ = v.AppendText(buf[:0])
	})
	if allocs != 0 {
		t.Errorf("scan allocated %v times per run", allocs)
	}
	if found == 0 {
		t.Fatal("nothing found")
	}
}
