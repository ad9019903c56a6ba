// Package failcode declares the failure codes, once: every stage that
// raises or counts a failure names it from here, so the edge need not link
// the validator (and its database driver) to answer with a code.
package failcode

// Code is a failure code: the `code` of one entry of a failure record's
// `errors`. The codes, their stages and meanings are listed in
// docs/data-model.md (a test keeps the list in step with Codes).
type Code string

// Stage is where in the pipeline a Code is raised.
type Stage string

// Stages, in pipeline order.
const (
	StageIngest   Stage = "ingest"
	StageResolve  Stage = "resolve"
	StageValidate Stage = "validate"
	StageExpand   Stage = "expand"
	StageLoad     Stage = "load"
	StageAny      Stage = "any"
)

// Failure codes; docs/data-model.md says what each means.
const (
	// ingest
	PayloadNotJSON   Code = "PAYLOAD_NOT_JSON"
	PayloadEmpty     Code = "PAYLOAD_EMPTY"
	PayloadNotObject Code = "PAYLOAD_NOT_OBJECT"
	PayloadTooLarge  Code = "PAYLOAD_TOO_LARGE"
	EndpointInvalid  Code = "ENDPOINT_INVALID"
	// resolve
	UnknownGame        Code = "UNKNOWN_GAME"
	UnknownEvent       Code = "UNKNOWN_EVENT"
	VersionUnmapped    Code = "VERSION_UNMAPPED"
	VersionAmbiguous   Code = "VERSION_AMBIGUOUS"
	DefinitionNotFound Code = "DEFINITION_NOT_FOUND"
	DefinitionInvalid  Code = "DEFINITION_INVALID"
	// validate
	MandatoryFieldMissing Code = "MANDATORY_FIELD_MISSING"
	MandatoryFieldNull    Code = "MANDATORY_FIELD_NULL"
	FieldTypeMismatch     Code = "FIELD_TYPE_MISMATCH"
	FieldFormatInvalid    Code = "FIELD_FORMAT_INVALID"
	FieldOutOfRange       Code = "FIELD_OUT_OF_RANGE"
	FieldTooLong          Code = "FIELD_TOO_LONG"
	TimestampOutOfRange   Code = "TIMESTAMP_OUT_OF_RANGE"
	UnexpectedField       Code = "UNEXPECTED_FIELD"
	// expand
	ExpandNotArray      Code = "EXPAND_NOT_ARRAY"
	ExpandEmpty         Code = "EXPAND_EMPTY"
	ExpandLimitExceeded Code = "EXPAND_LIMIT_EXCEEDED"
	// load (raised by the redshift output, not by this package)
	DestinationNotFound       Code = "DESTINATION_NOT_FOUND"
	DestinationSchemaMismatch Code = "DESTINATION_SCHEMA_MISMATCH"
	LoadRejected              Code = "LOAD_REJECTED"
	ModelMismatch             Code = "MODEL_MISMATCH"
	NotVerified               Code = "NOT_VERIFIED"
	// any
	UndecodableMessage Code = "UNDECODABLE_MESSAGE"
	InternalError      Code = "INTERNAL_ERROR"
)

// Codes lists every failure code with its stage, in documentation order.
var Codes = []struct {
	Code  Code
	Stage Stage
}{
	{PayloadNotJSON, StageIngest},
	{PayloadEmpty, StageIngest},
	{PayloadNotObject, StageIngest},
	{PayloadTooLarge, StageIngest},
	{EndpointInvalid, StageIngest},
	{UnknownGame, StageResolve},
	{UnknownEvent, StageResolve},
	{VersionUnmapped, StageResolve},
	{VersionAmbiguous, StageResolve},
	{DefinitionNotFound, StageResolve},
	{DefinitionInvalid, StageResolve},
	{MandatoryFieldMissing, StageValidate},
	{MandatoryFieldNull, StageValidate},
	{FieldTypeMismatch, StageValidate},
	{FieldFormatInvalid, StageValidate},
	{FieldOutOfRange, StageValidate},
	{FieldTooLong, StageValidate},
	{TimestampOutOfRange, StageValidate},
	{UnexpectedField, StageValidate},
	{ExpandNotArray, StageExpand},
	{ExpandEmpty, StageExpand},
	{ExpandLimitExceeded, StageExpand},
	{DestinationNotFound, StageLoad},
	{DestinationSchemaMismatch, StageLoad},
	{LoadRejected, StageLoad},
	{ModelMismatch, StageLoad},
	{NotVerified, StageLoad},
	{UndecodableMessage, StageAny},
	{InternalError, StageAny},
}

// Known reports whether c is one of Codes: only those may become a metric
// label, whatever code a record carries.
func Known(c Code) bool { return StageOf(c) != "" }

// StageOf returns the stage of a code, or "" for an unknown code.
func StageOf(c Code) Stage {
	for _, e := range Codes {
		if e.Code == c {
			return e.Stage
		}
	}
	return ""
}
