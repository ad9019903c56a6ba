package validate

// This file holds the validator's fast path: one pass over the event body
// that finds the value of each body field without building a tree
// (fastjson's parse) or searching each object once per field (Get).
//
// The pass is an exact subset of the tree path. It accepts only JSON by
// RFC 8259, which is all the tree path accepts (strictJSON, before
// fastjson's more lenient parse), and for what it accepts, every value it
// finds is the one root.Get(path...) returns. When it meets anything it
// does not handle in that exact way (an escaped or control byte in a key
// it looks up, an array where a path goes on, deep nesting, or any syntax
// error), it gives up. The event then takes the tree path, so errors and
// values stay the same byte for byte. FuzzScanEqualsTree holds the two
// paths equal.

import (
	"bytes"
	"math"
	"slices"

	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/internal/jsonscan"
	"github.com/whirlpool-events/whirlpool/internal/swar"
)

// scanNode is a key of a body field's path: the fields whose path ends
// here and the keys below it that a field's path goes on to.
type scanNode struct {
	kids   keyTable
	fields []*cfield
	expand bool // the expand field's path ends here
	id     int  // index into the seen marks of its tree
	// pred is where the key predictions of this node's object start in
	// worker.pred (predictMembers of them), or -1: it has no keys
	pred int
}

// predictMembers is how many members of an object have their key
// predicted: the key met at the same place in the last object of the
// same node that the worker read. Most clients write an event's keys in
// one order, so a predicted key is told by comparing its bytes, without
// finding its end and hashing it.
const predictMembers = 64

// predictPause is how many events a worker reads without predicting keys
// after an event whose predictions mostly missed (keys in another order in
// every event: a client that writes a hash map as it iterates), so that
// such traffic pays for checking predictions in one event of every
// predictPause+1. (A variable for the tests, which predict in every
// event.)
var predictPause = 32

// keyTable finds a scanNode by key: open addressing over a hash of the
// key's first 8 bytes, which are also compared as one word, so a key of up
// to 8 bytes (most keys) is found without a byte-wise compare.
type keyTable struct {
	slots []keySlot // a power of two, at least 4 per key; nil: no keys
	shift uint8
}

type keySlot struct {
	node *scanNode
	head uint64 // the key's first 8 bytes, little-endian, zero-padded
	len  int
	key  string
	// quoted is key and its closing quote, for a key without the bytes
	// that end a key's scan (keyStop), or "": never predicted; qhead and
	// qmask are its first 8 bytes and the mask of those it has
	quoted       string
	qhead, qmask uint64
}

// setQuoted sets s's key to q without its last byte (the closing quote).
func (s *keySlot) setQuoted(q string) {
	s.quoted, s.len, s.qhead, s.qmask = q, len(q)-1, keyHead([]byte(q), 0, len(q)), headMask(len(q))
}

// at reports whether the key of the member at b[ks-1] is s's: its bytes
// and then the closing quote. A key found so is the key the scan to its
// end and find would find (its bytes hold no keyStop byte).
func (s *keySlot) at(b []byte, ks int) bool {
	n := len(s.quoted)
	if ks+8 <= len(b) {
		if (swar.Load(b, ks)^s.qhead)&s.qmask != 0 {
			return false
		}
		return n <= 8 || ks+n <= len(b) && string(b[ks+8:ks+n]) == s.quoted[8:]
	}
	return ks+n <= len(b) && string(b[ks:ks+n]) == s.quoted
}

// keyHead is the first 8 bytes of k, little-endian, zero-padded. It reads
// up to 8 bytes of b from start (the key b[start:end]) in one load where b
// holds them, as it does but for a key at the very end of a body.
func keyHead(b []byte, start, end int) uint64 {
	n := end - start
	if start+8 <= len(b) {
		return swar.Load(b, start) & headMask(n)
	}
	var h uint64
	for i := min(n, 8) - 1; i >= 0; i-- {
		h = h<<8 | uint64(b[start+i])
	}
	return h
}

// headMask is the bits of a key's head word (keyHead) that its first n
// bytes fill: all of them from 8 bytes, none for 0.
func headMask(n int) uint64 {
	if n >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*uint(n)) - 1
}

func keyHash(head uint64, n int) uint32 {
	return uint32((head ^ uint64(n)<<56) * 0x9E3779B97F4A7C15 >> 32)
}

// find returns the slot of the key b[start:end], or nil.
func (t *keyTable) find(b []byte, start, end int) *keySlot {
	if t.slots == nil {
		return nil
	}
	n := end - start
	head := keyHead(b, start, end)
	mask := uint32(len(t.slots) - 1)
	for i := keyHash(head, n) >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.node == nil {
			return nil
		}
		if s.head == head && s.len == n && (n <= 8 || s.key[8:] == string(b[start+8:end])) {
			return s
		}
	}
}

// build fills the table with kids.
func (t *keyTable) build(kids map[string]*scanNode) {
	size, shift := 4, uint8(30)
	for size < 4*len(kids) {
		size, shift = size*2, shift-1
	}
	t.slots, t.shift = make([]keySlot, size), shift
	mask := uint32(size - 1)
	for k, n := range kids {
		head := keyHead([]byte(k), 0, len(k))
		i := keyHash(head, len(k)) >> shift
		for t.slots[i].node != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = keySlot{node: n, head: head, len: len(k), key: k}
		if plainKey(k) {
			t.slots[i].setQuoted(k + `"`)
		}
	}
}

// scanDepth is the deepest nesting the scan handles; deeper bodies take
// the tree path (fastjson allows MaxDepth).
const scanDepth = 64

// buildScan compiles the paths of d's body fields, and of its expand field
// and element fields, into scanNode trees, or leaves d.scan nil when the
// definition takes the tree path for every event: it has an object or
// array field that another field's path looks inside (the tree path then
// writes that value as fastjson re-encodes it after the inner field's
// check, which the scan does not copy), or a field whose path is a prefix
// of the expand field's or lies below it.
func buildScan(d *cdef) {
	related := func(fs []*cfield) bool {
		for _, a := range fs {
			for _, b := range fs {
				if b != a && len(b.path) > len(a.path) && prefix(a.path, b.path) {
					return true
				}
			}
		}
		return false
	}
	for _, f := range d.parent {
		if len(f.path) == 0 {
			return
		}
		if d.expand != nil && (prefix(f.path, d.expand.path) || prefix(d.expand.path, f.path)) {
			return
		}
	}
	if related(d.parent) || related(d.elem) {
		return
	}
	var root *scanNode
	root, d.scanNodes = pathTree(d.parent, d.expand)
	d.predSize = predictBases(root, 0)
	if d.expand != nil {
		d.elemScan, d.elemScanNodes = pathTree(d.elem, nil)
		d.predSize = predictBases(d.elemScan, d.predSize)
	}
	d.scan = root
}

// predictDefs is how many definitions a worker keeps key predictions for:
// the events of a chunk come from a few definitions, interleaved.
const predictDefs = 8

// keyPredictions are a worker's predicted keys for one definition.
type keyPredictions struct {
	def    *cdef
	pred   []*keySlot // by scanNode.pred + member
	other  []keySlot  // the keys no field's path reaches, at the same places
	paused int        // events left to read without predicting
	used   uint64     // the worker's predClock when last used
}

// predictionsFor returns the worker's predictions for d, taking the least
// recently used of its predictDefs places (cleared) when it has none.
func (w *worker) predictionsFor(d *cdef) *keyPredictions {
	w.predClock++
	oldest := &w.preds[0]
	for i := range w.preds {
		kp := &w.preds[i]
		if kp.def == d {
			kp.used = w.predClock
			return kp
		}
		if kp.used < oldest.used {
			oldest = kp
		}
	}
	*oldest = keyPredictions{def: d, pred: sized(oldest.pred, d.predSize), other: sized(oldest.other, d.predSize), used: w.predClock}
	return oldest
}

// predict notes, in this event's predictions (w.predNow), the key the
// member at place p had: the slot find found, or for a key no field's path
// reaches a slot of the predictions' own (other) holding its text, quoted
// with its closing quote (copied only when it changes).
func (w *worker) predict(p int, slot *keySlot, quoted []byte) {
	kp := w.predNow
	switch {
	case slot != nil && slot.quoted != "":
		kp.pred[p] = slot
	case slot != nil: // a model key that is not plain: never predicted
		kp.pred[p] = nil
	default:
		o := &kp.other[p]
		if o.quoted != string(quoted) {
			o.setQuoted(string(quoted))
		}
		kp.pred[p] = o
	}
}

// plainKey reports whether k holds no byte that ends a key's scan.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if keyStop[k[i]] {
			return false
		}
	}
	return true
}

// predictBases gives each node below and at n that has keys its place in
// worker.pred, from next on, and returns the next free place.
func predictBases(n *scanNode, next int) int {
	n.pred = -1
	if n.kids.slots == nil {
		return next
	}
	n.pred, next = next, next+predictMembers
	for _, s := range n.kids.slots {
		if s.node != nil {
			next = predictBases(s.node, next)
		}
	}
	return next
}

// pathTree is the scanNode tree of the paths of fields fs and of the
// expand field (nil: none), and how many nodes it has.
func pathTree(fs []*cfield, expand *cfield) (root *scanNode, nodes int) {
	kids := map[*scanNode]map[string]*scanNode{}
	root = &scanNode{id: 0}
	nodes = 1
	add := func(path []string) *scanNode {
		n := root
		for _, seg := range path {
			if kids[n] == nil {
				kids[n] = map[string]*scanNode{}
			}
			k := kids[n][seg]
			if k == nil {
				k = &scanNode{id: nodes}
				nodes++
				kids[n][seg] = k
			}
			n = k
		}
		return n
	}
	for _, f := range fs {
		n := add(f.path)
		n.fields = append(n.fields, f)
	}
	if expand != nil {
		add(expand.path).expand = true
	}
	for n, k := range kids {
		n.kids.build(k)
	}
	return root, nodes
}

// jv is a value of a body field: its JSON text in the body the scan read
// (w.body[start:end], a string with its quotes), or on the tree path a
// node of fastjson's tree (w.trees[tree-1]). It holds no pointer, so the
// scan stores one without write barriers. The zero jv is an absent value.
type jv struct {
	start, end int32
	tree       int32
	t          uint8 // the scanned value's fastjson.Type
}

// treeValue is x (nil: absent) as a jv, valid until the worker's next
// event.
func (w *worker) treeValue(x *fastjson.Value) jv {
	if x == nil {
		return jv{}
	}
	w.trees = append(w.trees, x)
	return jv{tree: int32(len(w.trees))}
}

// scanned is the jv of body[start:end] (the body w.scan reads), of type t.
func scanned(start, end int, t fastjson.Type) jv {
	return jv{start: int32(start), end: int32(end), t: uint8(t)}
}

// absent: a scanned value ends after the body's '{', never at 0.
func (j jv) absent() bool { return j.end == 0 && j.tree == 0 }

// raw is a scanned value's JSON text.
func (w *worker) raw(j jv) []byte { return w.body[j.start:j.end] }

// typ is the value's JSON type. On the tree path it unescapes a string in
// place, as fastjson's Type does.
func (w *worker) typ(j jv) fastjson.Type {
	if j.tree != 0 {
		return w.treeType(j)
	}
	return fastjson.Type(j.t)
}

// treeType is typ of a tree value, kept out of typ so that typ inlines.
//
//go:noinline
func (w *worker) treeType(j jv) fastjson.Type { return w.trees[j.tree-1].Type() }

// stringBytes is a string value's text, unescaped.
func (w *worker) stringBytes(j jv) []byte {
	if j.tree == 0 {
		if s := w.body[j.start+1 : j.end-1]; bytes.IndexByte(s, '\\') < 0 {
			return s
		}
	}
	return w.unescaped(j)
}

// unescaped is stringBytes for a tree value or a string with escapes.
func (w *worker) unescaped(j jv) []byte {
	var x *fastjson.Value
	if j.tree != 0 {
		x = w.trees[j.tree-1]
	} else {
		x = w.subtree(j)
	}
	s, _ := x.StringBytes()
	return s
}

// numberText is a number value's text, as fastjson read it.
func (w *worker) numberText(j jv) []byte {
	if j.tree != 0 {
		return w.treeText(j)
	}
	return w.body[j.start:j.end]
}

// treeText is a tree value as fastjson writes it, in w.tmp; kept out of
// numberText so that numberText inlines.
//
//go:noinline
func (w *worker) treeText(j jv) []byte {
	w.tmp = w.trees[j.tree-1].MarshalTo(w.tmp[:0])
	return w.tmp
}

// marshalled is the value as fastjson's MarshalTo writes it after its
// check (for a string, after Type unescaped it): its text in the body when
// that is it, else written into w.tmp.
func (w *worker) marshalled(j jv) []byte {
	var x *fastjson.Value
	if j.tree != 0 {
		x = w.trees[j.tree-1]
	} else {
		if raw := w.raw(j); asMarshalled(raw, fastjson.Type(j.t)) {
			return raw
		}
		x = w.subtree(j)
		x.Type()
	}
	w.tmp = x.MarshalTo(w.tmp[:0])
	return w.tmp
}

// asMarshalled reports whether fastjson writes a scanned value of type t
// back as its text raw.
func asMarshalled(raw []byte, t fastjson.Type) bool {
	switch t {
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse, fastjson.TypeNull:
		return true
	case fastjson.TypeString:
		// fastjson quotes a string with nothing to escape as it is, and
		// one read without a backslash or control byte has nothing.
		return !hasEscapeOrControl(raw[1 : len(raw)-1])
	case fastjson.TypeObject, fastjson.TypeArray:
		// fastjson writes an object or array back as it read it but for
		// the whitespace between tokens (nothing inside was unescaped:
		// buildScan sees to that).
		return !hasSpace(raw)
	}
	return false
}

func hasEscapeOrControl(b []byte) bool {
	for _, c := range b {
		if escapeOrControl(c) {
			return true
		}
	}
	return false
}

// escapeOrControl reports whether c starts an escape or is a control
// byte: text with neither reads, and is re-encoded by fastjson, as it is.
func escapeOrControl(c byte) bool { return c == '\\' || c < 0x20 }

// hasSpace reports whether b holds a byte fastjson skips as whitespace. It
// reads 8 bytes at a time for one up to ' ' (whitespace or a control byte)
// and looks at the bytes of such a word only.
func hasSpace(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if swar.Less(swar.Load(b, i), ' '+1) != 0 {
			for _, c := range b[i : i+8] {
				if isSpace(c) {
					return true
				}
			}
		}
	}
	for _, c := range b[i:] {
		if isSpace(c) {
			return true
		}
	}
	return false
}

// isSpace reports whether c is whitespace between JSON tokens, as fastjson
// skips it.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// subtree parses a scanned value with fastjson, for what only its tree
// gives: an escaped string's text and fastjson's re-encoding. It is valid
// until the next subtree.
func (w *worker) subtree(j jv) *fastjson.Value {
	x, err := w.sub.ParseBytes(w.raw(j))
	if err != nil {
		// The scan accepted it, so fastjson must: a bug, which the
		// validator's recover turns into an INTERNAL_ERROR failure.
		panic("validate: fastjson refused a value the scan accepted: " + err.Error())
	}
	return x
}

// scan finds the values of d's body fields in body, into w.jvs by slot,
// those of its expand field and elements into w.expandValue and w.elems,
// and when d rejects additional fields, the keys no field's path reaches,
// into w.extra. It reports false when the body must take the tree path.
func (w *worker) scan(v *Validator, d *cdef, body []byte) bool {
	w.jvs = sized(w.jvs, len(d.columns))
	w.seen = sized(w.seen, d.scanNodes)
	w.row, w.rowSeen = w.jvs, w.seen
	w.def, w.expandLimit = d, v.opts.ExpandLimit
	if len(body) > math.MaxInt32 { // beyond a jv's spans
		return false
	}
	w.body = body
	w.expandValue, w.nelems, w.elems = jv{}, 0, w.elems[:0]
	w.reject = d.reject
	kp := w.predictionsFor(d)
	w.predNow = kp
	w.predicting, w.predHits, w.predMisses = kp.paused == 0, 0, 0
	if !w.predicting {
		kp.paused--
	}
	w.extra, w.extraText = w.extra[:0], w.extraText[:0]
	w.elem = -1
	w.path = w.path[:0]
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i, ok := w.scanObject(d.scan, body, i+1, 1, true)
	if w.predMisses > w.predHits {
		kp.paused = predictPause
	}
	return ok && skipSpace(body, i) == len(body)
}

// sized is s with n zero elements, reusing its array.
func sized[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// extraKey is a key of the body that no field's path reaches: its path
// and the key, as spans of w.extraText, and the element it is in (-1: not
// in an expanded element).
type extraKey struct {
	path, key span
	elem      int
}

// addExtra notes key k of the object at w.path as an additional field.
func (w *worker) addExtra(k []byte) {
	start := int32(len(w.extraText))
	w.extraText = append(w.extraText, w.path...)
	if len(w.path) > 0 {
		w.extraText = append(w.extraText, '.')
	}
	w.extraText = appendPathKey(w.extraText, k)
	mid := int32(len(w.extraText))
	w.extraText = append(w.extraText, k...)
	w.extra = append(w.extra, extraKey{span{start, mid}, span{mid, int32(len(w.extraText))}, w.elem})
}

// addRow adds a row of ncol absent values to w.elems.
func (w *worker) addRow(ncol int) {
	n := len(w.elems)
	w.elems = slices.Grow(w.elems, ncol)[:n+ncol]
	clear(w.elems[n:])
}

// scanElements reads the elements of the expand field's array, whose '['
// ends before i, each into its row of w.elems (up to the expand limit,
// beyond which the event fails without its elements being checked), and
// returns the index after its ']'.
func (w *worker) scanElements(b []byte, i, depth int) (int, bool) {
	d := w.def
	ncol := len(d.columns)
	jvs, seen, path, reject := w.row, w.rowSeen, w.path, w.reject
	defer func() { w.row, w.rowSeen, w.path, w.reject, w.elem = jvs, seen, path, reject, -1 }()
	// the tree path's reject check of an element: none when a field is
	// the whole element ("@")
	elemReject := reject && len(d.elemScan.fields) == 0
	i = skipSpace(b, i)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for n := 0; ; n++ {
		if i >= len(b) {
			return i, false
		}
		start := i
		var t fastjson.Type
		var ok bool
		switch {
		case n >= w.expandLimit:
			i, _, ok = skipValue(b, i, depth)
		case b[i] == '{' && (d.elemScan.kids.slots != nil || elemReject):
			w.addRow(ncol)
			w.row = w.elems[n*ncol : (n+1)*ncol]
			w.rowSeen = sized(w.elemSeen, d.elemScanNodes)
			w.elemSeen = w.rowSeen
			w.elem = n
			w.reject = elemReject
			if w.reject {
				// its own buffer: the enclosing object's path is kept
				w.path = appendElemPath(w.elemPath[:0], d, n)
				w.elemPath = w.path
			}
			i, ok = w.scanObject(d.elemScan, b, i+1, depth+1, true)
			t = fastjson.TypeObject
		case b[i] == '[' && d.elemScan.kids.slots != nil:
			return i, false // Get indexes arrays by path segment
		default:
			// an element no field's path looks inside
			w.addRow(ncol)
			i, t, ok = skipValue(b, i, depth)
		}
		if !ok {
			return i, false
		}
		if n < w.expandLimit {
			for _, f := range d.elemScan.fields {
				w.elems[n*ncol+f.slot] = scanned(start, i, t)
			}
		}
		w.nelems = n + 1
		var done bool
		if i, done, ok = afterMember(b, i, ']'); done || !ok {
			return i, ok
		}
	}
}

// skipSpace skips the whitespace fastjson skips.
func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

// scanObject reads the members of an object whose '{' ends before i, at
// node n, and returns the index after its '}'. With record unset it only
// looks for additional fields (a later duplicate key's object, which the
// tree path's reject check walks too).
func (w *worker) scanObject(n *scanNode, b []byte, i, depth int, record bool) (int, bool) {
	i = skipSpace(b, i)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	pred := w.predNow.pred
	for member := 0; ; member++ {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		ks := i + 1
		ke := ks
		var slot *keySlot
		p := -1 // the place of this member's prediction
		if w.predicting && n.pred >= 0 && member < predictMembers {
			p = n.pred + member
		}
		if p >= 0 && pred[p] != nil && pred[p].at(b, ks) {
			slot = pred[p]
			ke = ks + slot.len
			w.predHits++
		} else {
			if p >= 0 && pred[p] != nil {
				w.predMisses++
			}
			for ke < len(b) && !keyStop[b[ke]] {
				ke++
			}
			if ke >= len(b) || b[ke] != '"' {
				// an escaped or control byte, which fastjson's Get and
				// MarshalTo treat their own way, or no end
				return i, false
			}
			slot = n.kids.find(b, ks, ke)
			if p >= 0 {
				w.predict(p, slot, b[ks:ke+1])
			}
		}
		var k *scanNode
		if slot != nil {
			k = slot.node
		}
		var ok bool
		if ke+2 < len(b) && b[ke+1] == ':' && b[ke+2] > ' ' {
			i = ke + 2 // no whitespace around the ':'
		} else if i, ok = afterKey(b, ke+1); !ok {
			return i, false
		}
		var t fastjson.Type
		start := i
		claimed := record && k != nil && !w.rowSeen[k.id]
		switch {
		case b[i] == '"':
			// a string, the most common value, read here rather than
			// through skipValue: no path goes on inside one
			if k == nil && w.reject {
				w.addExtra(b[ks:ke])
			} else if claimed {
				w.rowSeen[k.id] = true
			}
			i, ok = stringEnd(b, i+1)
			t = fastjson.TypeString
		case k == nil:
			if w.reject {
				w.addExtra(b[ks:ke])
			}
			i, _, ok = skipValue(b, i, depth)
		case k.kids.slots != nil && b[i] == '{' && (claimed || w.reject):
			if claimed {
				w.rowSeen[k.id] = true
			}
			base := len(w.path)
			if w.reject {
				if base > 0 {
					w.path = append(w.path, '.')
				}
				w.path = appendPathKey(w.path, b[ks:ke])
			}
			i, ok = w.scanObject(k, b, i+1, depth+1, claimed)
			w.path = w.path[:base]
			t = fastjson.TypeObject
		case claimed && k.kids.slots != nil && b[i] == '[':
			return i, false // Get indexes arrays by path segment
		case claimed && k.expand && b[i] == '[':
			w.rowSeen[k.id] = true
			i, ok = w.scanElements(b, i+1, depth+1)
			t = fastjson.TypeArray
		case claimed:
			w.rowSeen[k.id] = true
			i, t, ok = skipValue(b, i, depth)
		default:
			// a later duplicate, which Get never finds
			i, _, ok = skipValue(b, i, depth)
		}
		if !ok {
			return i, false
		}
		if claimed {
			for _, f := range k.fields {
				w.row[f.slot] = scanned(start, i, t)
			}
			if k.expand {
				w.expandValue = scanned(start, i, t)
			}
		}
		if i+1 < len(b) && b[i] == ',' && b[i+1] > ' ' {
			i++ // no whitespace around the ','
			continue
		}
		var done bool
		if i, done, ok = afterMember(b, i, '}'); done || !ok {
			return i, ok
		}
	}
}

// keyStop marks the bytes that end the scan of a key: its closing quote,
// and the escapes and control bytes it leaves to the tree path.
var keyStop = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || escapeOrControl(byte(c))
	}
	return t
}()

// skipValue reads the value at b[i] (not whitespace) and returns the index
// after it and its type.
func skipValue(b []byte, i, depth int) (int, fastjson.Type, bool) {
	switch c := b[i]; {
	case c == '"':
		e, ok := stringEnd(b, i+1)
		return e, fastjson.TypeString, ok
	case c == '{':
		e, ok := skipContainer(b, i+1, depth+1, '}')
		return e, fastjson.TypeObject, ok
	case c == '[':
		e, ok := skipContainer(b, i+1, depth+1, ']')
		return e, fastjson.TypeArray, ok
	case c == 't':
		return literal(b, i, "true", fastjson.TypeTrue)
	case c == 'f':
		return literal(b, i, "false", fastjson.TypeFalse)
	case c == 'n':
		return literal(b, i, "null", fastjson.TypeNull)
	case c-'1' < 9:
		// most numbers: an integer not starting with 0, read here
		e := i + 1
		for e < len(b) && b[e]-'0' < 10 {
			e++
		}
		if e < len(b) && b[e] != '.' && b[e]|0x20 != 'e' {
			return e, fastjson.TypeNumber, true
		}
		fallthrough
	case c == '-' || c == '0':
		// RFC 8259's number, not fastjson's run of number bytes (03, 1.,
		// 1e, 1-2), which the validator refuses (strictJSON)
		e, ok := jsonscan.NumberEnd(b, i)
		return e, fastjson.TypeNumber, ok
	}
	return i, 0, false
}

func literal(b []byte, i int, lit string, t fastjson.Type) (int, fastjson.Type, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), t, true
	}
	return i, 0, false
}

// stringEnd returns the index after the closing quote of the string whose
// text starts at i, which must be a JSON string by RFC 8259: fastjson's
// parser reads more (control bytes, unknown escapes), which the validator
// refuses (strictJSON).
func stringEnd(b []byte, i int) (int, bool) { return jsonscan.StringEnd(b, i) }

// afterKey reads the ':' after an object's key, which ends before i, and
// returns the index of the value.
func afterKey(b []byte, i int) (int, bool) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, false
	}
	i = skipSpace(b, i+1)
	return i, i < len(b)
}

// afterMember reads what follows a member or element, which ends before
// i: a ',' (more follow; it returns the index of the next) or closer (the
// end; it returns the index after it).
func afterMember(b []byte, i int, closer byte) (next int, done, ok bool) {
	i = skipSpace(b, i)
	switch {
	case i >= len(b):
		return i, false, false
	case b[i] == ',':
		return skipSpace(b, i+1), false, true
	case b[i] == closer:
		return i + 1, true, true
	}
	return i, false, false
}

// skipContainer reads the members of an object (closer '}') or the
// elements of an array (closer ']') whose opening ends before i, and
// returns the index after its closer.
func skipContainer(b []byte, i, depth int, closer byte) (int, bool) {
	if depth > scanDepth {
		return i, false
	}
	i = skipSpace(b, i)
	if i < len(b) && b[i] == closer {
		return i + 1, true
	}
	for {
		if i >= len(b) {
			return i, false
		}
		var ok bool
		if closer == '}' {
			if b[i] != '"' {
				return i, false
			}
			e, ok := stringEnd(b, i+1)
			if !ok {
				return e, false
			}
			if i, ok = afterKey(b, e); !ok {
				return i, false
			}
		}
		if i, _, ok = skipValue(b, i, depth); !ok {
			return i, false
		}
		var done bool
		if i, done, ok = afterMember(b, i, closer); done || !ok {
			return i, ok
		}
	}
}
