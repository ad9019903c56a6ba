// Package fieldname is the one home of the keys of Whirlpool's record
// bodies: the record contract's (what every input writes, see
// filters/enrich) and those the validated-record form adds (see
// filters/validate). Every stage that writes or reads a record names its
// keys from here, so that a key can only be renamed everywhere at once.
package fieldname

// Keys of the record contract, in contract order.
const (
	UUID    = "uuid"
	FiredTS = "fired_ts"
	Game    = "game"
	Version = "version"
	Event   = "event"
	Body    = "body"
)

// Keys the validated-record form adds to the contract's. They are never
// taken from untrusted input: a reader of a queue keeps only the contract's
// keys, and a loader checks destinations and columns against the model.
const (
	DefinitionVersion = "definition_version"
	ExpandIndex       = "expand_index"
	Destinations      = "destinations" // valid records
	Columns           = "columns"      // valid records
	Errors            = "errors"       // failure records
	// BodyBytes and BodySHA256 are in a failure record whose body keeps
	// only the first bytes of the raw text: the whole text's length and
	// its SHA-256 in lower-case hex.
	BodyBytes  = "body_bytes"
	BodySHA256 = "body_sha256"
)
